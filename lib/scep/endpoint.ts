import type { IssuanceProfile } from '../ca/issue.js';
import type { ChallengeValidator } from '../challenge/types.js';
import type { CsrValidator } from '../csr/policy.js';
import type { ParsedCsr } from '../csr/parse.js';
import type { CertificateRecord, NotificationState } from '../store/types.js';

/**
 * One SCEP endpoint (`scep/{name}`): its challenge, certificate profile and renewal rule.
 * `static` (other MDMs) and `intune` are built by the composition root from settings.
 */
export interface ScepEndpoint {
  readonly name: string;
  /**
   * A configuration problem that keeps this endpoint from serving (an unresolved Key Vault
   * reference in its secret): every request is answered 503 and the problem is logged.
   */
  readonly unavailable?: string;
  readonly challenge: ChallengeValidator;
  readonly profile: IssuanceProfile;
  readonly policy: readonly CsrValidator[];
  /**
   * Renewal without the challenge: a RenewalReq (or PKCSReq) signed by an unexpired,
   * unrevoked certificate this CA issued (SCEPman's AllowRenewals).
   */
  readonly allowRenewals: boolean;
  /**
   * A PKCSReq whose challenge is refused is refused, even when it is signed by a valid
   * certificate this CA issued (Intune: the challenge is Intune's verdict, not ours).
   */
  readonly challengeRefusalIsFinal?: boolean;
  /** Notification state of records this endpoint's challenge authorized (not renewals). */
  readonly notification?: NotificationState;
  /** AppConfig__*__EnableCertificateStorage: keep the certificate DER in its record. */
  readonly storeCertificate?: boolean;
  /**
   * Runs once a reply carrying the certificate has been produced (new, replayed, polled or
   * fetched with GetCert); a rejection withholds the certificate (see EnrollmentService.deliver).
   */
  readonly afterRecord?: (record: CertificateRecord, replayed: boolean) => Promise<void>;
  readonly onIssueFailed?: (
    ctx: { transactionId: string; csr: ParsedCsr },
    reason: string,
    message: string,
  ) => Promise<void>;
}

/**
 * An endpoint whose configuration cannot be used: it answers 503 (ScepService) and, should it
 * ever be asked, its challenge refuses everything.
 */
export function unavailableEndpoint(name: string, problem: string, profile: IssuanceProfile): ScepEndpoint {
  return {
    name,
    unavailable: problem,
    challenge: {
      validate: () =>
        Promise.resolve({
          ok: false,
          reason: 'endpoint-unavailable',
          detail: 'the endpoint is not configured',
        }),
    },
    profile,
    policy: [],
    allowRenewals: false,
  };
}
