import type { ComparedValue } from '../audit/event.js';
import type { ReasonCode } from '../audit/reasons.js';
import type { ParsedCsr } from '../csr/parse.js';
import type { RenewalGrant } from '../enroll/renewal-rule.js';

/** What a challenge validator sees of an enrollment request. */
export interface ChallengeContext {
  readonly endpoint: string;
  readonly transactionId: string;
  readonly csr: ParsedCsr;
  /** The challengePassword attribute of the CSR, if any. */
  readonly challengePassword: string | undefined;
}

export type ChallengeResult =
  | {
      readonly ok: true;
      readonly authorization: Authorization;
      readonly requester?: string;
      /** The account whose challenge authorized the request (stored endpoints). */
      readonly account?: AccountRef;
      /** A granted renewal: the new certificate gets the original endpoint's profile. */
      readonly renewal?: RenewalGrant;
    }
  | {
      readonly ok: false;
      /** A catalogue code (lib/audit/reasons.ts). */
      readonly reason: ReasonCode;
      readonly detail?: string;
      /** What the check compared, for the audit trail; never the challenge itself. */
      readonly compared?: readonly ComparedValue[];
    };

/** An account as recorded on the certificates it authorized. */
export interface AccountRef {
  readonly id: string;
  readonly organization?: string | undefined;
  readonly department?: string | undefined;
}

/** How an issued certificate was authorized; recorded on the certificate document. */
export type Authorization = 'static' | 'intune' | 'account' | 'api' | 'renewal';

export interface ChallengeValidator {
  validate(ctx: ChallengeContext): Promise<ChallengeResult>;
}
