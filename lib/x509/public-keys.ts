import { createPublicKey, type KeyObject } from 'node:crypto';

/**
 * Public keys from SubjectPublicKeyInfo, remembered by their encoding. Importing an RSA key
 * costs about 0.2 ms in OpenSSL 3 and one enrollment meets the same key up to three times (the
 * request signer, the CSR, the reply's recipient), so a small LRU saves most of that.
 * Throws like createPublicKey on a malformed key.
 */
const MAX = 512;
const cache = new Map<string, KeyObject>();

export function publicKeyFromSpki(spki: Uint8Array): KeyObject {
  const id = Buffer.from(spki.buffer, spki.byteOffset, spki.byteLength).toString('base64');
  const hit = cache.get(id);
  if (hit) {
    cache.delete(id);
    cache.set(id, hit);
    return hit;
  }
  const key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  cache.set(id, key);
  if (cache.size > MAX) {
    const oldest = cache.keys().next().value;
    if (oldest !== undefined) cache.delete(oldest);
  }
  return key;
}
