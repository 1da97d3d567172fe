import { createHash, createHmac } from 'node:crypto';

/**
 * The implicit-rejection content key for `ciphertext`: HMAC-SHA256 under a per-key secret,
 * expanded to `length` bytes (the shape of the implicit rejection in
 * draft-irtf-cfrg-rsa-guidance §7 and OpenSSL 3.2+). Deterministic, so re-sending the same bad
 * message meets the same substitute key and the same outcome: nothing to learn by repeating it.
 */
export function substituteKey(secret: Uint8Array, ciphertext: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let block = 0, filled = 0; filled < length; block++) {
    const h = createHmac('sha256', secret)
      .update(Uint8Array.of(block, length & 0xff))
      .update(ciphertext)
      .digest();
    out.set(h.subarray(0, Math.min(h.length, length - filled)), filled);
    filled += h.length;
  }
  return out;
}

/** A per-key implicit-rejection secret derived from key material only its holder has. */
export function rejectionSecret(keyMaterial: Uint8Array): Uint8Array {
  return new Uint8Array(
    createHash('sha256').update('scep implicit rejection\n').update(keyMaterial).digest(),
  );
}

/**
 * Remove RSAES-PKCS1-v1_5 padding (RFC 8017 §7.2.2) from a raw RSA decryption result `em`
 * (k bytes) WITHOUT revealing whether the padding was valid: if it is not, or the message is
 * not `expectedLength` bytes, return `substitute` (expectedLength bytes, from substituteKey)
 * instead (implicit rejection, RFC 3218 §2.3.2 / RFC 5652 §14). The work done does not depend
 * on where the padding is wrong: every byte is visited and the result is selected with masks.
 *
 * Why by hand: Node 20 refuses RSA_PKCS1_PADDING in privateDecrypt (CVE-2023-46809), so the
 * key is applied with RSA_NO_PADDING and the padding is checked here; Node 22 with OpenSSL
 * 3.5 would do the same implicit rejection internally.
 */
export function unpadPkcs1v15(em: Uint8Array, expectedLength: number, substitute: Uint8Array): Uint8Array {
  const k = em.length;
  const fallback = substitute;
  if (fallback.length !== expectedLength) throw new RangeError('the substitute key has the wrong length');
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
