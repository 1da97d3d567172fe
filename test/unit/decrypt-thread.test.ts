import { constants, generateKeyPairSync, privateDecrypt, publicEncrypt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { availableParallelism } from 'node:os';
import {
  DECRYPT_ON_THREAD,
  privateDecryptOffThread,
  rsaPrivateDecrypt,
} from '../../lib/keys/decrypt-thread.js';

/** RSA decryption on the worker thread answers exactly what crypto.privateDecrypt would. */
describe('privateDecryptOffThread', () => {
  const a = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const b = generateKeyPairSync('rsa', { modulusLength: 2048 });

  it('ok/40 concurrent decryptions with two keys each give privateDecrypt’s bytes', async () => {
    const jobs = Array.from({ length: 40 }, (_, i) => {
      const pair = i % 2 === 0 ? a : b;
      const secret = Buffer.alloc(16, i);
      const wrapped = publicEncrypt({ key: pair.publicKey, padding: constants.RSA_PKCS1_PADDING }, secret);
      return { pair, wrapped };
    });
    const out = await Promise.all(
      jobs.map((j) =>
        privateDecryptOffThread(j.pair.privateKey, { padding: constants.RSA_NO_PADDING }, j.wrapped),
      ),
    );
    out.forEach((em, i) => {
      const j = jobs[i];
      if (!j) throw new Error('no job');
      expect(em).toEqual(
        privateDecrypt({ key: j.pair.privateKey, padding: constants.RSA_NO_PADDING }, j.wrapped),
      );
      expect(em.subarray(-16)).toEqual(Buffer.alloc(16, i));
    });
  });

  it('fail/a ciphertext privateDecrypt refuses is a rejection, and the next call still works', async () => {
    const tooLong = Buffer.alloc(300, 0xff);
    await expect(
      privateDecryptOffThread(a.privateKey, { padding: constants.RSA_NO_PADDING }, tooLong),
    ).rejects.toThrow();
    const wrapped = publicEncrypt(
      { key: a.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
      Buffer.from('content key'),
    );
    const key = await privateDecryptOffThread(
      a.privateKey,
      { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
      wrapped,
    );
    expect(key.toString()).toBe('content key');
  });

  it.each([
    ['on the worker thread', true],
    ['on the event loop', false],
  ])(
    'ok/rsaPrivateDecrypt %s answers privateDecrypt’s bytes, and a refused ciphertext is a rejection',
    async (_where, onThread) => {
      const wrapped = publicEncrypt(
        { key: a.publicKey, padding: constants.RSA_PKCS1_PADDING },
        Buffer.alloc(16, 7),
      );
      const em = await rsaPrivateDecrypt(
        a.privateKey,
        { padding: constants.RSA_NO_PADDING },
        wrapped,
        onThread,
      );
      expect(em).toEqual(privateDecrypt({ key: a.privateKey, padding: constants.RSA_NO_PADDING }, wrapped));
      await expect(
        rsaPrivateDecrypt(
          a.privateKey,
          { padding: constants.RSA_NO_PADDING },
          Buffer.alloc(300, 0xff),
          onThread,
        ),
      ).rejects.toThrow();
    },
  );

  it('ok/the worker thread is the default only with more than two cores', () => {
    expect(DECRYPT_ON_THREAD).toBe(availableParallelism() > 2);
  });
});
