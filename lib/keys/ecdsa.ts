/**
 * ECDSA signature encodings. Key Vault (like JWS, RFC 7518 §3.4) returns an ECDSA signature as
 * the fixed-length concatenation r || s; X.509 and CMS carry the DER structure
 * `ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }` (RFC 5480 §2.2 / RFC 3279 §2.2.3).
 */
export function ecdsaRawToDer(raw: Uint8Array): Uint8Array {
  if (raw.length === 0 || raw.length % 2 !== 0)
    throw new Error(`ECDSA signature of odd length ${raw.length}`);
  const half = raw.length / 2;
  const r = derInteger(raw.subarray(0, half));
  const s = derInteger(raw.subarray(half));
  return concat([Uint8Array.of(0x30), derLength(r.length + s.length), r, s]);
}

/** A DER INTEGER of an unsigned big-endian value: minimal length, positive. */
function derInteger(v: Uint8Array): Uint8Array {
  let i = 0;
  while (i < v.length - 1 && v[i] === 0) i++;
  const body = v.subarray(i);
  const pad = (body[0] ?? 0) & 0x80 ? Uint8Array.of(0) : new Uint8Array(0);
  return concat([Uint8Array.of(0x02), derLength(pad.length + body.length), pad, body]);
}

function derLength(n: number): Uint8Array {
  if (n < 0x80) return Uint8Array.of(n);
  if (n < 0x100) return Uint8Array.of(0x81, n);
  return Uint8Array.of(0x82, n >> 8, n & 0xff);
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
