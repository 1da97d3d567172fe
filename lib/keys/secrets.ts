import type { TokenCredential } from '@azure/identity';
import { AppError } from '../errors.js';
import { callKeyVault, DEFAULT_CALL_POLICY, KeyVaultCounter } from './keyvault-call.js';
import { sdkClientOptions, vaultClientOptionsFor, type KeyVaultCallOptions } from './keyvault.js';

/** Reads a Key Vault secret by its identifier (`https://{vault}/secrets/{name}[/{version}]`). */
export type SecretReader = (secretUri: string) => Promise<string>;

/**
 * Secrets of stored Intune connections, read with the app's identity through
 * @azure/keyvault-secrets ("Get Secret": the identity needs the `get` permission on secrets, or
 * the Key Vault Secrets User role). One SDK client per vault; the SDK is loaded on first use.
 * Every read goes through callKeyVault (time boxes, Retry-After, bounded retries): the SDK
 * client's own retries are off and it has no timeout, so a vault that does not answer would
 * otherwise hold the token request, and every enrollment of that connection waiting on it.
 */
export function keyVaultSecretReader(
  credential: () => Promise<TokenCredential>,
  options: KeyVaultCallOptions = {},
): SecretReader {
  const clients = new Map<string, Promise<import('@azure/keyvault-secrets').SecretClient>>();
  const policy = { ...DEFAULT_CALL_POLICY, counter: new KeyVaultCounter(), ...options };
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
    const secrets = await client;
    const target = { vault: id.vaultUrl, object: `secrets/${id.name}`, operation: 'getSecret' };
    const secret = await callKeyVault(target, policy, (abortSignal) =>
      secrets.getSecret(id.name, id.version ? { version: id.version, abortSignal } : { abortSignal }),
    );
    if (secret.value === undefined || secret.value === '')
      throw new AppError('CONFIG_INVALID', `the Key Vault secret ${id.name} has no value`);
    return secret.value;
  };
}
