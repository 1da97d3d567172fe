import { parseKeyVaultKeyIdentifier, type KeyVaultKey } from '@azure/keyvault-keys';
import { AppError } from '../errors.js';
import { getKey, target, type VaultContext } from '../keys/keyvault-ca.js';
import { callKeyVault } from '../keys/keyvault-call.js';
import { KeyVaultDecrypter, KeyVaultKeyHandle, KeyVaultSigner } from '../keys/keyvault.js';
import type { HashAlgorithm, KeyTransportScheme } from '../keys/types.js';
import type { RaKey, RaKeyStore } from './keys.js';

export type RaKeyType = 'RSA' | 'RSA-HSM';

/**
 * RA keys in Key Vault: one key per endpoint, `ra-<endpoint>`, created by the app (Key Vault
 * Crypto Officer) as a new version at every RA renewal; software RSA-2048 unless configured
 * (RSA-HSM on a Premium vault). Non-exportable; used through sign and unwrapKey only.
 */
export class KeyVaultRaKeyStore implements RaKeyStore {
  constructor(
    private readonly ctx: VaultContext,
    private readonly keyType: RaKeyType = 'RSA',
    private readonly keySize = 2048,
  ) {}

  async create(endpoint: string): Promise<{ ref: string; key: RaKey }> {
    const name = `ra-${endpoint}`;
    const created = await callKeyVault(
      target(this.ctx, `keys/${name}`, 'createKey'),
      this.ctx.policy,
      (abortSignal) =>
        this.ctx.keys.createRsaKey(name, {
          keySize: this.keySize,
          hsm: this.keyType === 'RSA-HSM',
          keyOps: ['sign', 'unwrapKey', 'decrypt'],
          exportable: false,
          abortSignal,
        }),
    );
    if (created.id === undefined) throw new Error(`Key Vault returned no id for ${name}`);
    return { ref: created.id, key: this.handle(created) };
  }

  async open(ref: string): Promise<RaKey> {
    // The SDK parses an id without a version too, and getKey would then open the newest version:
    // a key that the RA certificate does not name.
    if (parseKeyVaultKeyIdentifier(ref).version === undefined)
      throw new AppError('CONFIG_INVALID', `the RA key reference ${ref} names no key version`);
    return this.handle(await getKey(this.ctx, ref));
  }

  private handle(key: KeyVaultKey): RaKey {
    const h = new KeyVaultKeyHandle(key, this.ctx.credential, this.ctx.clientOptions, this.ctx.policy);
    const signer = new KeyVaultSigner(h);
    const decrypter = new KeyVaultDecrypter(h);
    return {
      id: h.id,
      keyType: signer.keyType,
      publicKeySpki: h.publicKeySpki,
      sign: (data: Uint8Array, hash: HashAlgorithm) => signer.sign(data, hash),
      unwrapKey: (wrapped: Uint8Array, scheme: KeyTransportScheme, n: number) =>
        decrypter.unwrapKey(wrapped, scheme, n),
    };
  }
}
