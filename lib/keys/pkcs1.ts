import { randomBytes } from 'node:crypto';

/**
 * Remove RSAES-PKCS1-v1_5 padding (RFC 8017 §7.2.2) from a raw RSA decryption result `em`
 * (k bytes) WITHOUT revealing whether the padding was valid: if it is not, or the message is
 * not `expectedLength` bytes, return `expectedLength` random bytes instead (implicit
 * rejection, RFC 3218 §2.3.2 / RFC 5652 §14). The work done does not depend on where the
 * padding is wrong: every byte is visited and the result is selected with masks.
 *
 * Why by hand: Node 20 refuses RSA_PKCS1_PADDING in privateDecrypt (CVE-2023-46809), so the
 * key is applied with RSA_NO_PADDING and the padding is checked here; Node 22 with OpenSSL
 * 3.5 would do the same implicit rejection internally.
 */
export function unpadPkcs1v15(em: Uint8Array, expectedLength: number): Uint8Array {
  const k = em.length;
  const fallback = randomBytes(expectedLength);
  const out = new Uint8Array(expectedLength);
  if (expectedLength + 11 > k) return new Uint8Array(fallback);
  // good = 0xff when valid so far, 0x00 otherwise.
  let good = ctEq(byteAt(em, 0), 0x00) & ctEq(byteAt(em, 1), 0x02);
  // Find the first zero byte after the padding string, branch-free.
  let zeroIndex = 0;
  let lookingForZero = 0xff;
  for (let i = 2; i < k; i++) {
    const isZero = ctEq(byteAt(em, i), 0);
    const take = isZero & lookingForZero;
    zeroIndex = (zeroIndex & ~ctMask(take)) | (i & ctMask(take));
    lookingForZero &= ~isZero & 0xff;
  }
  good &= ~lookingForZero & 0xff; // a separator exists
  good &= ctGe(zeroIndex, 10); // at least 8 bytes of padding string (indices 2..9)
  good &= ctEq32(k - zeroIndex - 1, expectedLength);
  const start = k - expectedLength;
  for (let i = 0; i < expectedLength; i++) {
    out[i] = (byteAt(em, start + i) & good) | (byteAt(fallback, i) & ~good & 0xff);
  }
  return out;
}

/** bytes[i], for an index the caller has already bounded (no data-dependent branch). */
function byteAt(bytes: Uint8Array, i: number): number {
  const b = bytes[i];
  if (b === undefined) throw new RangeError(`byte index ${i} is outside 0..${bytes.length - 1}`);
  return b;
}

/** 0xff if a === b (bytes), else 0x00. */
function ctEq(a: number, b: number): number {
  const x = (a ^ b) & 0xff;
  return ((x - 1) >>> 8) & 0xff;
}
/** 0xff if a === b (32-bit non-negative ints), else 0x00. */
function ctEq32(a: number, b: number): number {
  const x = (a ^ b) >>> 0;
  return (((x | -x) >>> 31) ^ 1) * 0xff;
}
/** 0xff if a >= b (non-negative ints < 2^31), else 0x00. */
function ctGe(a: number, b: number): number {
  return (((a - b) >>> 31) ^ 1) * 0xff;
}
/** Expand a 0x00/0xff byte mask to a 32-bit mask. */
function ctMask(m: number): number {
  return -(m & 1);
}
