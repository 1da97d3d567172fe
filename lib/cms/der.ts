import { BerError } from './ber.js';

/**
 * A small DER writer for the per-request SCEP path (X.690 §10): CertRep, SignedData,
 * EnvelopedData, issued certificates and OCSP responses are written with it; ./ber.ts reads.
 */

export function tlv(identifier: number, ...parts: readonly Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const header = len < 0x80 ? 2 : len < 0x100 ? 3 : len < 0x10000 ? 4 : 5;
  const out = new Uint8Array(header + len);
  out[0] = identifier;
  if (header === 2) out[1] = len;
  else {
    const n = header - 2;
    out[1] = 0x80 | n;
    for (let i = 0; i < n; i++) out[2 + i] = (len >>> (8 * (n - 1 - i))) & 0xff;
  }
  let at = header;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export const seq = (...parts: readonly Uint8Array[]): Uint8Array => tlv(0x30, ...parts);
export const set = (...parts: readonly Uint8Array[]): Uint8Array => tlv(0x31, ...parts);
/** DER SET OF: elements sorted by their encodings (X.690 §11.6). */
export const setOf = (parts: readonly Uint8Array[]): Uint8Array =>
  set(...[...parts].sort((a, b) => Buffer.compare(a, b)));
/** [n] constructed (EXPLICIT, or IMPLICIT over a constructed type). */
export const explicit = (n: number, ...parts: readonly Uint8Array[]): Uint8Array => tlv(0xa0 | n, ...parts);
/** [n] IMPLICIT over a primitive type. */
export const implicitPrimitive = (n: number, contentBytes: Uint8Array): Uint8Array =>
  tlv(0x80 | n, contentBytes);
export const octetString = (b: Uint8Array): Uint8Array => tlv(0x04, b);
export const bitString = (b: Uint8Array): Uint8Array => tlv(0x03, Uint8Array.of(0), b);
export const printableString = (s: string): Uint8Array => tlv(0x13, Buffer.from(s, 'latin1'));
export const utf8String = (s: string): Uint8Array => tlv(0x0c, Buffer.from(s, 'utf8'));
export const derNull = Uint8Array.of(0x05, 0x00);
export const derTrue = Uint8Array.of(0x01, 0x01, 0xff);

/** INTEGER from a small non-negative number, or from two's-complement content bytes. */
export function integer(v: number | Uint8Array): Uint8Array {
  if (typeof v !== 'number') return tlv(0x02, v);
  const bytes: number[] = [];
  let x = v;
  do {
    bytes.unshift(x & 0xff);
    x = Math.floor(x / 256);
  } while (x > 0);
  if ((bytes[0] ?? 0) & 0x80) bytes.unshift(0);
  return tlv(0x02, Uint8Array.from(bytes));
}

const oidEncodings = new Map<string, Uint8Array>();

export function objectIdentifier(dotted: string): Uint8Array {
  const cached = oidEncodings.get(dotted);
  if (cached) return cached;
  const arcs = dotted.split('.').map(Number);
  const [a, b, ...rest] = arcs;
  if (a === undefined || b === undefined) throw new BerError(`not an object identifier: ${dotted}`);
  const out: number[] = [];
  for (const arc of [a * 40 + b, ...rest]) {
    const stack = [arc & 0x7f];
    for (let x = Math.floor(arc / 128); x > 0; x = Math.floor(x / 128)) stack.unshift((x & 0x7f) | 0x80);
    out.push(...stack);
  }
  const enc = tlv(0x06, Uint8Array.from(out));
  oidEncodings.set(dotted, enc);
  return enc;
}

/** AlgorithmIdentifier with NULL parameters (RSA and digest algorithms). */
export const algorithmWithNull = (dotted: string): Uint8Array => seq(objectIdentifier(dotted), derNull);
/** AlgorithmIdentifier with absent parameters (ECDSA). */
export const algorithm = (dotted: string): Uint8Array => seq(objectIdentifier(dotted));

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050; whole seconds, UTC. */
export function x509Time(d: Date): Uint8Array {
  const iso = d.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 19).replace(/[-:T]/g, '');
  return d.getUTCFullYear() < 2050
    ? tlv(0x17, Buffer.from(`${digits.slice(2)}Z`, 'latin1'))
    : tlv(0x18, Buffer.from(`${digits}Z`, 'latin1'));
}
