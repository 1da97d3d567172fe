import { explicit, integer, objectIdentifier, seq, set } from './der.js';

const SIGNED_DATA = '1.2.840.113549.1.7.2';
const DATA = '1.2.840.113549.1.7.1';

/**
 * A degenerate certificates-only CMS SignedData (RFC 8894 §3.4): no content, no signers,
 * just certificates (embedded as they are, not re-encoded). Used for GetCACert with a chain and
 * for the CertRep payload.
 */
export function certsOnly(certsDer: readonly Uint8Array[]): Uint8Array {
  const sd = seq(integer(1), set(), seq(objectIdentifier(DATA)), explicit(0, ...certsDer), set());
  return seq(objectIdentifier(SIGNED_DATA), explicit(0, sd));
}
