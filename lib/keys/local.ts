import { constants, createPublicKey, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { rsaPrivateDecrypt } from './decrypt-thread.js';
import type { Decrypter, HashAlgorithm, KeyTransportScheme, Signer } from './types.js';
import { rejectionSecret, substituteKey, unpadPkcs1v15 } from './pkcs1.js';
import { NODE_HASH } from '../cms/algorithms.js';

/**
 * Signer and Decrypter over a private key held in this process: the embedded default's
 * local CA key, and test keys. Production keys live in Key Vault (lib/keys/keyvault.ts).
 * Signing uses the callback form of crypto.sign, which runs on libuv's thread pool and keeps
 * RSA work off the event loop; decryption runs as ./decrypt-thread.ts decides.
 */
export class LocalKey implements Signer, Decrypter {
  readonly keyType: 'RSA' | 'EC';
  readonly publicKeySpki: Uint8Array;
  private readonly rejection: Uint8Array | undefined;

  constructor(
    private readonly key: KeyObject,
    readonly id: string,
  ) {
    if (key.type !== 'private') throw new Error('LocalKey needs a private key');
    this.keyType = key.asymmetricKeyType === 'ec' ? 'EC' : 'RSA';
    this.publicKeySpki = new Uint8Array(createPublicKey(key).export({ format: 'der', type: 'spki' }));
    this.rejection =
      this.keyType === 'RSA'
        ? rejectionSecret(new Uint8Array(key.export({ format: 'der', type: 'pkcs8' })))
        : undefined;
  }

  sign(data: Uint8Array, hash: HashAlgorithm): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      cryptoSign(NODE_HASH[hash], data, { key: this.key, dsaEncoding: 'der' }, (err, sig) => {
        if (err) reject(err);
        else resolve(new Uint8Array(sig));
      });
    });
  }

  async unwrapKey(
    wrapped: Uint8Array,
    scheme: KeyTransportScheme,
    expectedLength: number,
  ): Promise<Uint8Array> {
    if (this.keyType !== 'RSA' || !this.rejection)
      throw new Error('only an RSA key can unwrap a SCEP content key');
    const substitute = substituteKey(this.rejection, wrapped, expectedLength);
    if (scheme === 'RSA1_5') {
      // Wrong length or value >= modulus: still no early, distinguishable answer.
      const em = await rsaPrivateDecrypt(this.key, { padding: constants.RSA_NO_PADDING }, wrapped).catch(() =>
        Buffer.alloc(0),
      );
      return unpadPkcs1v15(em, expectedLength, substitute);
    }
    const out = await rsaPrivateDecrypt(
      this.key,
      { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: scheme === 'RSA-OAEP-256' ? 'sha256' : 'sha1' },
      wrapped,
    ).catch(() => undefined);
    // OAEP too: a decoding failure must look like any wrong key (Manger's attack).
    return out?.length === expectedLength ? new Uint8Array(out) : substitute;
  }
}
