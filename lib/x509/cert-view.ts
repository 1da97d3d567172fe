import { createHash } from 'node:crypto';
import {
  BerError,
  bits,
  integerBytes,
  isContext,
  kid,
  kids,
  oid,
  parseBer,
  raw,
  time,
  type Ber,
} from '../cms/ber.js';

/**
 * The parts of a certificate the SCEP path needs, read without a schema and without
 * judging extensions (Windows' self-signed request signer has a critical
 * AuthorityKeyIdentifier that strict parsers reject; only its key and names matter here).
 */
export interface CertView {
  readonly der: Uint8Array;
  readonly tbs: Uint8Array;
  /** Encoded INTEGER content of the serial number. */
  readonly serial: Uint8Array;
  readonly serialHex: string;
  /** Encoded Name elements. */
  readonly issuer: Uint8Array;
  readonly subject: Uint8Array;
  /** Encoded SubjectPublicKeyInfo. */
  readonly spki: Uint8Array;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly signatureOid: string;
  readonly signatureParams: Uint8Array | undefined;
  readonly signature: Uint8Array;
}

export function certView(input: Uint8Array | Ber): CertView {
  try {
    const node = input instanceof Uint8Array ? parseBer(input) : input;
    const [tbsNode, algNode, sigNode] = kids(node);
    if (!tbsNode || !algNode || !sigNode) throw new BerError('not a certificate');
    const t = kids(tbsNode);
    const o = t[0] && isContext(t[0], 0) ? 1 : 0; // [0] EXPLICIT version, DEFAULT v1
    const serial = integerBytes(kid(tbsNode, o));
    const validity = kid(tbsNode, o + 3);
    const alg = kids(algNode);
    return {
      der: raw(node),
      tbs: raw(tbsNode),
      serial,
      serialHex: canonicalSerialHex(serial),
      issuer: raw(kid(tbsNode, o + 2)),
      subject: raw(kid(tbsNode, o + 4)),
      spki: raw(kid(tbsNode, o + 5)),
      notBefore: time(kid(validity, 0)),
      notAfter: time(kid(validity, 1)),
      signatureOid: oid(kid(algNode, 0)),
      signatureParams: alg[1] ? raw(alg[1]) : undefined,
      signature: bits(sigNode),
    };
  } catch (e) {
    if (e instanceof BerError) throw e;
    throw new BerError(`not a certificate: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Lower-case hex without redundant leading zero octets (the store's canonical form). */
export function canonicalSerialHex(b: Uint8Array): string {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  return Buffer.from(b.subarray(i)).toString('hex');
}

export function sha256Hex(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}
