import * as asn1js from 'asn1js';
import { context, encode, rawData } from './ber.js';

const SIGNED_DATA = '1.2.840.113549.1.7.2';
const DATA = '1.2.840.113549.1.7.1';

/**
 * A degenerate certificates-only CMS SignedData (RFC 8894 §3.4): no content, no signers,
 * just certificates (embedded as they are, not re-encoded). Used for GetCACert with a chain and
 * for the CertRep payload.
 */
export function certsOnly(certsDer: readonly Uint8Array[]): Uint8Array {
  const sd = new asn1js.Sequence({
    value: [
      new asn1js.Integer({ value: 1 }),
      new asn1js.Set({ value: [] }),
      new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: DATA })] }),
      context(0, certsDer.map(rawData)),
      new asn1js.Set({ value: [] }),
    ],
  });
  return encode(new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: SIGNED_DATA }), context(0, [sd])] }));
}
