import type { ComparedValue } from '../audit/event.js';
import type { ReasonCode } from '../audit/reasons.js';
import type { IssuedCertificate } from '../ca/issue.js';
import type { ChallengeResult } from '../challenge/types.js';
import type { ParsedCsr } from '../csr/parse.js';
import type { CertificateRecord } from '../store/types.js';
import type { EnrollmentProfile, IssuanceHooks } from './endpoint.js';

/** One request to the enrollment use case (lib/enroll/service.ts), from any front door. */
export interface EnrollmentRequest {
  readonly endpoint: string;
  /** For the audit log: PKCSReq, RenewalReq, api/csr, … */
  readonly operation: string;
  readonly csr: ParsedCsr;
  /** The endpoint's profile: validators, what to issue, whether to keep the DER. */
  readonly profile: EnrollmentProfile;
  readonly transactionId?: string | undefined;
  /** Who the request belongs to, for the audit trail (endpoints as data: account, organization). */
  readonly context?: EnrollmentContext | undefined;
  /**
   * Names the transaction (SCEP: endpoint + transactionID + message type + renewal signer).
   * The same transaction with the same CSR gets the same certificate again; with another
   * public key it is refused.
   */
  readonly transactionRef?: string | undefined;
  /** Runs after policy and idempotency checks, before anything is signed. */
  readonly authorize: () => Promise<ChallengeResult>;
  /** Who hears of the issuance (Intune notifications); NO_HOOKS for most endpoints. */
  readonly hooks: IssuanceHooks;
}

export interface EnrollmentContext {
  readonly account?: string | undefined;
  readonly organization?: string | undefined;
  readonly department?: string | undefined;
  /** Intune device id, when known. */
  readonly device?: string | undefined;
}

export type EnrollmentFailureKind = 'unauthorized' | 'policy' | 'conflict' | 'unavailable';

export type EnrollmentResult =
  | {
      readonly ok: true;
      readonly issued: IssuedCertificate;
      readonly record: CertificateRecord;
      readonly replayed: boolean;
    }
  | {
      readonly ok: false;
      readonly kind: EnrollmentFailureKind;
      /** Catalogue code (lib/audit/reasons.ts), e.g. `challenge-mismatch`, `key-too-small`. */
      readonly reason: ReasonCode;
      /** Safe to show to the requester. */
      readonly message: string;
      /**
       * Who must hear of this refusal (Intune's failureNotification), told once the reply that
       * carries it exists: a requester that got no reply retries, and the retry settles it.
       */
      readonly announce?: () => Promise<void>;
    };

/** Audit a refusal and answer it. */
export type Refuse = (
  kind: EnrollmentFailureKind,
  reason: ReasonCode,
  message: string,
  detail?: string,
  compared?: readonly ComparedValue[],
) => EnrollmentResult;
