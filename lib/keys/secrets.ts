import type { TokenCredential } from '@azure/identity';
import { AppError } from '../errors.js';
import { sdkClientOptions, vaultClientOptionsFor } from './keyvault.js';

/** Reads a Key Vault secret by its identifier (`https://{vault}/secrets/{name}[/{version}]`). */
export type SecretReader = (secretUri: string) => Promise<string>;

/**
 * Secrets of stored Intune connections, read with the app's identity through
 * @azure/keyvault-secrets ("Get Secret": the identity needs the `get` permission on secrets, or
 * the Key Vault Secrets User role). One SDK client per vault; the SDK is loaded on first use.
 */
export function keyVaultSecretReader(credential: () => Promise<TokenCredential>): SecretReader {
  const clients = new Map<string, Promise<import('@azure/keyvault-secrets').SecretClient>>();
  return async (secretUri) => {
    const m = await import('@azure/keyvault-secrets');
    let id: ReturnType<typeof m.parseKeyVaultSecretIdentifier>;
    try {
      id = m.parseKeyVaultSecretIdentifier(secretUri);
    } catch (e) {
      throw new AppError('CONFIG_INVALID', 'the Key Vault secret reference is not a secret identifier', {
        cause: e,
      });
    }
    let client = clients.get(id.vaultUrl);
    if (!client) {
      client = credential().then(
        (c) => new m.SecretClient(id.vaultUrl, c, sdkClientOptions(vaultClientOptionsFor(id.vaultUrl))),
      );
      clients.set(id.vaultUrl, client);
    }
    const secret = await (await client).getSecret(id.name, id.version ? { version: id.version } : {});
    if (secret.value === undefined || secret.value === '')
      throw new AppError('CONFIG_INVALID', `the Key Vault secret ${id.name} has no value`);
    return secret.value;
  };
}
