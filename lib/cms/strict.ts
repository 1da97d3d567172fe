import { BerError, content, isContext, isUniversal, kids, oid, type Ber } from './ber.js';

/**
 * Tag-checked readers for the parts of a CMS structure (RFC 5652) that nothing else protects:
 * every element read is checked to be what the ASN.1 module says it is, so that a message
 * with a wrong tag anywhere is refused instead of read "leniently" into something that
 * verifies.
 */

/** The children of a SEQUENCE (universal 16, constructed). */
export function sequence(n: Ber | undefined, what: string): readonly Ber[] {
  if (!n || !isUniversal(n, 16) || !n.constructed) throw new BerError(`${what}: expected a SEQUENCE`);
  return kids(n);
}

/** The members of a SET / SET OF (universal 17, constructed). */
export function setMembers(n: Ber | undefined, what: string): readonly Ber[] {
  if (!n || !isUniversal(n, 17) || !n.constructed) throw new BerError(`${what}: expected a SET`);
  return kids(n);
}

/** The single element inside a `[tag] EXPLICIT` wrapper. */
export function explicitOf(n: Ber | undefined, tag: number, what: string): Ber {
  if (!n || !isContext(n, tag) || !n.constructed) throw new BerError(`${what}: expected [${tag}]`);
  const inner = kids(n);
  if (inner.length !== 1 || !inner[0]) throw new BerError(`${what}: expected one element in [${tag}]`);
  return inner[0];
}

/** An OCTET STRING's value; BER constructed segments must be OCTET STRINGs themselves. */
export function octetStringValue(n: Ber | undefined, what: string): Uint8Array {
  if (!n || !isUniversal(n, 4)) throw new BerError(`${what}: expected an OCTET STRING`);
  if (!n.constructed) return content(n);
  return new Uint8Array(Buffer.concat(n.children.map((c) => octetStringValue(c, what))));
}

/** A small non-negative INTEGER (versions), DER-minimal. */
export function smallInteger(n: Ber | undefined, what: string): number {
  if (!n || !isUniversal(n, 2) || n.constructed) throw new BerError(`${what}: expected an INTEGER`);
  const c = content(n);
  if (c.length !== 1 || (c[0] ?? 0x80) & 0x80) throw new BerError(`${what}: unexpected INTEGER`);
  return c[0] ?? 0;
}

export interface AlgorithmIdentifier {
  readonly oid: string;
  /** The parameters element, when present (NULL, or a SEQUENCE for RSASSA-PSS). */
  readonly params: Ber | undefined;
}

const RSASSA_PSS = '1.2.840.113549.1.1.10';

/**
 * AlgorithmIdentifier ::= SEQUENCE { algorithm OID, parameters ANY OPTIONAL }. The parameters of
 * the digest and RSA algorithms read here are absent or NULL (RFC 5754 §2, RFC 8017 App. A);
 * only RSASSA-PSS carries a SEQUENCE.
 */
export function algorithmIdentifier(n: Ber | undefined, what: string): AlgorithmIdentifier {
  const parts = sequence(n, what);
  if (parts.length < 1 || parts.length > 2) throw new BerError(`${what}: malformed AlgorithmIdentifier`);
  const algorithm = oid(parts[0] as Ber);
  const params = parts[1];
  if (params) {
    const isNull = isUniversal(params, 5) && !params.constructed && params.contentEnd === params.contentStart;
    const isPss = algorithm === RSASSA_PSS && isUniversal(params, 16) && params.constructed;
    if (!isNull && !isPss) throw new BerError(`${what}: unexpected algorithm parameters`);
  }
  return { oid: algorithm, params };
}
