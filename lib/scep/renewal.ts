import type { RenewalSignerReason } from '../audit/reasons.js';
import type { CertificateIssuer } from '../ca/issue.js';
import type { CertView } from '../x509/cert-view.js';
import type { CertificateStore } from '../store/types.js';

export type RenewalCheck =
  | { readonly kind: 'not-ours' }
  | {
      readonly kind: 'valid';
      readonly serialNumber: string;
      readonly subject: string;
      readonly sans: readonly string[];
    }
  | {
      readonly kind: 'invalid';
      readonly serialNumber: string;
      readonly reason: RenewalSignerReason;
      readonly detail: string;
    };

/**
 * Is the request signer a certificate this CA issued, recorded, unrevoked and within its
 * validity? (field notes #9). Self-signed signers — first enrollments — are 'not-ours'.
 */
export async function checkRenewalSigner(
  signer: CertView,
  issuer: CertificateIssuer,
  store: CertificateStore,
  now: Date,
): Promise<RenewalCheck> {
  if (!issuer.issuedByUs(signer)) return { kind: 'not-ours' };
  const serialNumber = signer.serialHex;
  const invalid = (reason: RenewalSignerReason, detail: string): RenewalCheck => ({
    kind: 'invalid',
    serialNumber,
    reason,
    detail,
  });
  if (signer.notAfter <= now)
    return invalid('signer-expired', `the signing certificate ${serialNumber} has expired`);
  if (signer.notBefore > now)
    return invalid('signer-not-yet-valid', `the signing certificate ${serialNumber} is not yet valid`);
  const record = await store.getBySerial(serialNumber);
  if (!record)
    return invalid(
      'signer-unknown',
      `the signing certificate ${serialNumber} is not in the certificate store`,
    );
  if (record.status !== 'issued')
    return invalid('signer-revoked', `the signing certificate ${serialNumber} is revoked`);
  return { kind: 'valid', serialNumber, subject: record.subject, sans: record.sans };
}
