import { CRLReasons } from '@peculiar/asn1-x509';
import type { RevocationReason } from '../store/types.js';

/** RFC 5280 §5.3.1 CRLReason codes (7 is not used; removeFromCRL only appears in delta CRLs). */
export const CRL_REASON_CODE: Record<RevocationReason, CRLReasons> = {
  unspecified: CRLReasons.unspecified,
  keyCompromise: CRLReasons.keyCompromise,
  cACompromise: CRLReasons.cACompromise,
  affiliationChanged: CRLReasons.affiliationChanged,
  superseded: CRLReasons.superseded,
  cessationOfOperation: CRLReasons.cessationOfOperation,
  certificateHold: CRLReasons.certificateHold,
  privilegeWithdrawn: CRLReasons.privilegeWithdrawn,
};

export const REVOCATION_REASONS = Object.keys(CRL_REASON_CODE) as RevocationReason[];

export function isRevocationReason(s: unknown): s is RevocationReason {
  return typeof s === 'string' && Object.hasOwn(CRL_REASON_CODE, s);
}

/**
 * A serial as the store keys it (lower-case hex, no redundant leading zero octets) from what
 * people paste: upper case, colons, `0x`, or every leading zero stripped (`openssl x509 -serial`
 * with its leading zeros stripped). Undefined when it is not hex.
 */
export function canonicalSerial(input: string): string | undefined {
  const hex = input.trim().replace(/^0x/i, '').replace(/[:\s]/g, '').toLowerCase();
  if (!/^[0-9a-f]{1,80}$/.test(hex)) return undefined;
  const stripped = hex.replace(/^0+/, '');
  if (stripped === '') return '00';
  return stripped.length % 2 === 1 ? `0${stripped}` : stripped;
}

/** DER INTEGER content of a canonical serial (a 0x00 octet in front when the top bit is set). */
export function serialContent(serialHex: string): Uint8Array {
  const b = Buffer.from(serialHex, 'hex');
  return (b[0] ?? 0) & 0x80 ? new Uint8Array(Buffer.concat([Buffer.of(0), b])) : new Uint8Array(b);
}
