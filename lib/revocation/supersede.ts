import { AppError, describeError } from '../errors.js';
import type { RenewalPolicy } from '../enroll/endpoint.js';
import type { Logger } from '../log.js';
import type { CertificateRecord } from '../store/types.js';
import type { RevocationService } from './revoke.js';

/** Called once a certificate has been delivered (EnrollmentService.deliver). */
export type SupersedeOnDelivery = (record: CertificateRecord) => Promise<void>;

/** Nothing is revoked when a renewal is delivered. */
export const KEEP_SUPERSEDED: SupersedeOnDelivery = () => Promise.resolve();

export interface SupersedeDeps {
  readonly revocation: Pick<RevocationService, 'revoke'>;
  /** The current renewal policy of the endpoint that issued a certificate (its own profile). */
  readonly renewalPolicyOf: (endpoint: string) => Promise<RenewalPolicy | undefined>;
  readonly logger: Logger;
}

/**
 * A delivered renewal revokes the certificate it renews with CRLReason superseded (RFC 5280
 * §5.3.1) when the profile of the endpoint that issued both says so. It runs only after the new
 * certificate has been delivered, so a failed renewal leaves the old certificate valid; it goes
 * through the revoke use case (audit line, OCSP and CRL caches dropped). A replayed delivery
 * finds the old certificate already revoked and changes nothing. A revocation that fails is
 * logged, never withheld from the client: the certificate it asked for has been delivered, and
 * its retry or the next replay revokes the old one.
 */
export function revokeSupersededOnDelivery(d: SupersedeDeps): SupersedeOnDelivery {
  return async (record) => {
    const old = record.renewalOf;
    if (old === undefined || record.status !== 'issued') return;
    try {
      const policy = await d.renewalPolicyOf(record.endpoint);
      if (policy?.revokeSuperseded !== true) return;
      await d.revocation.revoke({
        serial: old,
        reason: 'superseded',
        actor: `renewal:${record.serialNumber}`,
        operation: 'renewal.supersede',
      });
    } catch (e) {
      if (e instanceof AppError && e.code === 'CONFLICT') return; // already revoked
      d.logger.warn('the renewed certificate could not be revoked as superseded', {
        serialNumber: old,
        renewedBy: record.serialNumber,
        endpoint: record.endpoint,
        error: describeError(e),
      });
    }
  };
}
