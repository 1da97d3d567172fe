import type { IssuanceProfile } from '../ca/issue.js';
import type { ChallengeContext, ChallengeResult } from '../challenge/types.js';
import type { ResponseCipher } from '../config/core.js';
import type { ParsedCsr } from '../csr/parse.js';
import type { CsrValidator } from '../csr/policy.js';
import type { CertificateRecord, NotificationState } from '../store/types.js';

/**
 * What one endpoint (a SCEP endpoint, or the REST front door) brings to an enrollment, as one
 * object resolved once per request: its profile (what it accepts and issues), its authorizer
 * (who may enroll) and its issuance hooks (who hears of an issuance). Nothing downstream reads
 * settings or threads callbacks of its own.
 */
export interface EnrollmentProfile {
  /** What goes into the certificate. */
  readonly issuance: IssuanceProfile;
  /** CSR validators, applied before anything else. */
  readonly policy: readonly CsrValidator[];
  /** Renewal without the challenge, by a certificate this endpoint issued (SCEPman's AllowRenewals). */
  readonly renewal: RenewalPolicy;
  /** Content cipher of a SCEP reply. */
  readonly replyCipher: ResponseCipher;
  /** Keep the certificate DER in its record (EnableCertificateStorage). */
  readonly storeCertificate: boolean;
}

export interface RenewalPolicy {
  readonly allowed: boolean;
  /** Only within this many days before the certificate expires; undefined = any time. */
  readonly windowDays?: number | undefined;
  /**
   * Once a renewal's certificate has been delivered, revoke the certificate it renews with
   * CRLReason superseded (RFC 5280 §5.3.1); a renewal that fails revokes nothing.
   */
  readonly revokeSuperseded?: boolean | undefined;
}

/** Is a certificate expiring at `notAfter` renewable at `now` under `p`? */
export function withinRenewalWindow(p: RenewalPolicy, notAfter: Date, now: Date): boolean {
  return p.windowDays === undefined || notAfter.getTime() - now.getTime() <= p.windowDays * 86_400_000;
}

export interface Authorizer {
  /** Check the request's own credential (a challenge password). */
  challenge(ctx: ChallengeContext): Promise<ChallengeResult>;
  /**
   * A refused challenge is final, even for a request signed by a certificate this CA issued
   * (Intune: the challenge is Intune's verdict, not ours).
   */
  readonly refusalIsFinal: boolean;
}

export interface IssuanceHooks {
  /** Notification state of records this endpoint's challenge authorized (not renewals). */
  readonly notification: NotificationState;
  /**
   * Runs once a reply carrying the certificate has been produced (new, replayed, polled or
   * fetched with GetCert); a rejection withholds the certificate (EnrollmentService.deliver).
   */
  afterRecord(record: CertificateRecord, replayed: boolean): Promise<void>;
  /** Issuance failed after authorization succeeded; called once the reply refusing it exists. */
  issueFailed(
    ctx: { transactionId: string | undefined; csr: ParsedCsr },
    reason: string,
    message: string,
  ): Promise<void>;
}

/** The hooks of an endpoint nobody has to tell about its issuances. */
export const NO_HOOKS: IssuanceHooks = {
  notification: 'none',
  afterRecord: () => Promise.resolve(),
  issueFailed: () => Promise.resolve(),
};
