import { constants, createPublicKey, publicEncrypt, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LocalKey } from '../../lib/keys/local.js';
import { substituteKey, unpadPkcs1v15 } from '../../lib/keys/pkcs1.js';
import { ecKey, rsaKey } from '../helpers/pki.js';

/** RSAES-PKCS1-v1_5 unpadding with implicit rejection (RFC 8017 §7.2.2, RFC 5652 §14). */

const K = 256; // RSA-2048 modulus length

/** EM = 0x00 || 0x02 || PS || 0x00 || M, with a non-zero PS of `psLength` bytes (the rest is M). */
function encodeEm(
  message: Uint8Array,
  o: { first?: number; blockType?: number; psLength?: number } = {},
): Uint8Array {
  const psLength = o.psLength ?? K - 3 - message.length;
  const ps = new Uint8Array(psLength).map(() => 1 + Math.floor(Math.random() * 255));
  const em = new Uint8Array(K);
  em[0] = o.first ?? 0x00;
  em[1] = o.blockType ?? 0x02;
  em.set(ps, 2);
  em[2 + psLength] = 0x00;
  em.set(message.subarray(0, K - 3 - psLength), 3 + psLength);
  return em;
}

const key16 = (): Uint8Array => new Uint8Array(randomBytes(16));

const SECRET = new Uint8Array(32).fill(7);
const unpad = (em: Uint8Array, n: number): Uint8Array => unpadPkcs1v15(em, n, substituteKey(SECRET, em, n));

/** Implicit rejection: the substitute key of that ciphertext, not the message. */
function expectRejected(em: Uint8Array, expectedLength: number, message?: Uint8Array): void {
  const a = unpad(em, expectedLength);
  expect(a).toHaveLength(expectedLength);
  expect(Buffer.from(a).equals(Buffer.from(substituteKey(SECRET, em, expectedLength)))).toBe(true);
  if (message) expect(Buffer.from(a).equals(Buffer.from(message.subarray(0, expectedLength)))).toBe(false);
  expect(Buffer.from(a).equals(Buffer.from(em.subarray(em.length - expectedLength)))).toBe(false);
}

describe('unpadPkcs1v15', () => {
  it('ok/valid padding returns the message', () => {
    const m = key16();
    expect(Buffer.from(unpad(encodeEm(m), 16)).equals(Buffer.from(m))).toBe(true);
  });

  it('ok/a message with zero bytes inside is returned whole (the first zero after PS is the separator)', () => {
    const m = new Uint8Array([0, 0, 7, 0, 9, 0, 0, 1, 2, 3, 0, 4, 5, 6, 0, 0, 8, 0, 0, 0, 0, 0, 0, 1]);
    expect(Buffer.from(unpad(encodeEm(m), 24)).equals(Buffer.from(m))).toBe(true);
  });

  it('ok/exactly 8 bytes of padding string is enough', () => {
    const m = new Uint8Array(randomBytes(K - 11)).map((b) => b | 1);
    expect(Buffer.from(unpad(encodeEm(m, { psLength: 8 }), K - 11)).equals(Buffer.from(m))).toBe(true);
  });

  it('fail/first byte not 0x00 → random bytes of the expected length', () => {
    const m = key16();
    expectRejected(encodeEm(m, { first: 0x01 }), 16, m);
  });

  it.each([0x00, 0x01, 0x03, 0xff])('fail/block type 0x%s instead of 0x02 → random bytes', (bt) => {
    const m = key16();
    expectRejected(encodeEm(m, { blockType: bt }), 16, m);
  });

  it('fail/no zero separator → random bytes', () => {
    const em = new Uint8Array(K).map(() => 1 + Math.floor(Math.random() * 255));
    em[0] = 0;
    em[1] = 2;
    expectRejected(em, 16);
  });

  it('fail/padding string shorter than 8 bytes → random bytes, even when the length would match', () => {
    const m = new Uint8Array(randomBytes(K - 10)).map((b) => b | 1);
    expectRejected(encodeEm(m, { psLength: 7 }), K - 10, m);
  });

  it('fail/valid padding around a message of the wrong length → random bytes of the expected length', () => {
    const m = new Uint8Array(randomBytes(24));
    expectRejected(encodeEm(m), 16, m);
    expectRejected(encodeEm(m), 32, m);
  });

  it('fail/an input shorter than expectedLength + 11 (or empty) → random bytes', () => {
    expectRejected(new Uint8Array(26), 16);
    expectRejected(new Uint8Array(0), 24);
  });
});

describe('LocalKey.unwrapKey', () => {
  const key = rsaKey(2048, 'unwrap');
  const local = new LocalKey(key, 'test');
  const pub = createPublicKey(key);

  it.each([8, 16, 24, 32])(
    'ok/RSA1_5 (publicEncrypt RSA_PKCS1_PADDING) unwraps a %i-byte content key on this Node',
    async (len) => {
      const cek = new Uint8Array(randomBytes(len));
      const wrapped = publicEncrypt({ key: pub, padding: constants.RSA_PKCS1_PADDING }, cek);
      expect(Buffer.from(await local.unwrapKey(wrapped, 'RSA1_5', len)).equals(Buffer.from(cek))).toBe(true);
    },
  );

  it('ok/RSA1_5 with the ciphertext leading zero byte stripped (k-1 bytes) still unwraps', async () => {
    const cek = new Uint8Array(randomBytes(16));
    let wrapped: Buffer | undefined;
    for (let i = 0; i < 5000 && wrapped === undefined; i++) {
      const w = publicEncrypt({ key: pub, padding: constants.RSA_PKCS1_PADDING }, cek);
      if (w[0] === 0) wrapped = w.subarray(1);
    }
    expect(wrapped, 'a ciphertext with a leading zero byte was found').toBeDefined();
    expect(Buffer.from(await local.unwrapKey(wrapped!, 'RSA1_5', 16)).equals(Buffer.from(cek))).toBe(true);
  });

  it('ok/RSA-OAEP (SHA-1) and RSA-OAEP-256 unwrap', async () => {
    const cek = new Uint8Array(randomBytes(32));
    const oaep1 = publicEncrypt(
      { key: pub, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' },
      cek,
    );
    const oaep256 = publicEncrypt(
      { key: pub, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
      cek,
    );
    expect(Buffer.from(await local.unwrapKey(oaep1, 'RSA-OAEP', 32)).equals(Buffer.from(cek))).toBe(true);
    expect(Buffer.from(await local.unwrapKey(oaep256, 'RSA-OAEP-256', 32)).equals(Buffer.from(cek))).toBe(
      true,
    );
  });

  it('fail/RSA1_5 with an unexpected key length → a substitute key of the expected length, no error', async () => {
    const cek = new Uint8Array(randomBytes(16));
    const wrapped = publicEncrypt({ key: pub, padding: constants.RSA_PKCS1_PADDING }, cek);
    const a = await local.unwrapKey(wrapped, 'RSA1_5', 32);
    expect(a).toHaveLength(32);
    expect(Buffer.from(a.subarray(0, 16)).equals(Buffer.from(cek))).toBe(false);
  });

  it('fail/re-sending the same bad ciphertext meets the same substitute key (no oracle by repetition); another one, another key', async () => {
    const bad = Buffer.alloc(256, 0x5a);
    const a = await local.unwrapKey(bad, 'RSA1_5', 16);
    const b = await local.unwrapKey(bad, 'RSA1_5', 16);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    const c = await local.unwrapKey(Buffer.alloc(256, 0x5b), 'RSA1_5', 16);
    expect(Buffer.from(a).equals(Buffer.from(c))).toBe(false);
    // Another key, another secret: the substitute is not computable from the ciphertext alone.
    const other = new LocalKey(rsaKey(2048, 'unwrap-other'), 'other');
    expect(Buffer.from(await other.unwrapKey(bad, 'RSA1_5', 16)).equals(Buffer.from(a))).toBe(false);
  });

  it('fail/RSA1_5 with a corrupted, short, oversize or foreign ciphertext → random bytes, no error', async () => {
    const cek = new Uint8Array(randomBytes(16));
    const wrapped = publicEncrypt({ key: pub, padding: constants.RSA_PKCS1_PADDING }, cek);
    const corrupted = Buffer.from(wrapped);
    corrupted[100] = (corrupted[100] ?? 0) ^ 0xff;
    const foreign = publicEncrypt(
      { key: createPublicKey(rsaKey(1024, 'other')), padding: constants.RSA_PKCS1_PADDING },
      cek,
    );
    for (const c of [
      corrupted,
      Buffer.alloc(10, 1),
      Buffer.alloc(300, 0xff),
      Buffer.alloc(256, 0xff),
      foreign,
    ]) {
      const out = await local.unwrapKey(c, 'RSA1_5', 16);
      expect(out).toHaveLength(16);
      expect(Buffer.from(out).equals(Buffer.from(cek))).toBe(false);
    }
  });

  it('fail/RSA-OAEP with a corrupted ciphertext → the same substitute key every time, no error (no OAEP oracle)', async () => {
    const cek = randomBytes(16);
    const wrapped = publicEncrypt(
      { key: pub, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' },
      cek,
    );
    wrapped[5] = (wrapped[5] ?? 0) ^ 0xff;
    const a = await local.unwrapKey(wrapped, 'RSA-OAEP', 16);
    expect(a).toHaveLength(16);
    expect(Buffer.from(a).equals(cek)).toBe(false);
    expect(Buffer.from(await local.unwrapKey(wrapped, 'RSA-OAEP', 16)).equals(Buffer.from(a))).toBe(true);
  });

  it('fail/an EC key cannot unwrap a SCEP content key', async () => {
    await expect(
      new LocalKey(ecKey('P-256'), 'ec').unwrapKey(new Uint8Array(256), 'RSA1_5', 16),
    ).rejects.toThrow(/RSA/);
  });
});
