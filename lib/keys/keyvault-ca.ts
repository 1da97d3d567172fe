import { X509Certificate } from 'node:crypto';
import type { TokenCredential } from '@azure/identity';
import { CertificateClient, type KeyVaultCertificateWithPolicy } from '@azure/keyvault-certificates';
import { KeyClient, parseKeyVaultKeyIdentifier, type KeyVaultKey } from '@azure/keyvault-keys';
import type { KeyVaultSettings } from '../config/keyvault.js';
import { AppError } from '../errors.js';
import {
  callKeyVault,
  DEFAULT_CALL_POLICY,
  KeyVaultCounter,
  KeyVaultError,
  type CallPolicy,
} from './keyvault-call.js';
import {
  KeyVaultDecrypter,
  KeyVaultKeyHandle,
  KeyVaultSigner,
  sdkClientOptions,
  vaultClientOptionsFor,
  type KeyVaultCallOptions,
  type VaultClientOptions,
} from './keyvault.js';
import type { CaKeys } from './types.js';
import { parseChain } from '../x509/pem.js';

/** The CA with its key in Key Vault. `counter` counts every Key Vault request made for it. */
export interface KeyVaultCa extends CaKeys {
  readonly signer: KeyVaultSigner;
  readonly decrypter: KeyVaultDecrypter;
  readonly counter: KeyVaultCounter;
}

/** Everything needed to talk to the vault named in the settings. */
export interface VaultContext {
  readonly url: string;
  readonly name: string;
  readonly credential: TokenCredential;
  readonly clientOptions: VaultClientOptions;
  readonly certificates: CertificateClient;
  readonly keys: KeyClient;
  readonly policy: CallPolicy;
}

export function vaultContext(
  settings: KeyVaultSettings,
  credential: TokenCredential,
  clientOptions?: VaultClientOptions,
  options: KeyVaultCallOptions = {},
): VaultContext {
  const url = settings.url;
  if (url === undefined)
    throw new AppError('CONFIG_INVALID', 'AppConfig__KeyVaultConfig__KeyVaultURL is not set');
  const transport = clientOptions ?? vaultClientOptionsFor(url);
  return {
    url,
    name: settings.certificateName,
    credential,
    clientOptions: transport,
    certificates: new CertificateClient(url, credential, sdkClientOptions(transport)),
    keys: new KeyClient(url, credential, sdkClientOptions(transport)),
    policy: { ...DEFAULT_CALL_POLICY, counter: new KeyVaultCounter(), ...options },
  };
}

/**
 * Load the CA once per worker: the Key Vault certificate object `CertificateName` (its `cer`
 * and the id of its key version) and that key (one GET each). After this, enrollments cost only
 * the cryptographic operations themselves. The chain above a subordinate CA comes from the
 * settings (see KeyVaultSettings.chainPem).
 */
export async function loadKeyVaultCa(
  settings: KeyVaultSettings,
  credential: TokenCredential,
  clientOptions?: VaultClientOptions,
  options?: KeyVaultCallOptions,
): Promise<KeyVaultCa> {
  const ctx = vaultContext(settings, credential, clientOptions, options);
  const cert = await getCaCertificate(ctx);
  if (cert === undefined) {
    throw new AppError(
      'CONFIG_INVALID',
      `Key Vault ${ctx.url} has no certificate "${ctx.name}": run \`npm run ca -- init\` (or csr + import)`,
    );
  }
  if (cert.cer === undefined || cert.keyId === undefined) {
    throw new AppError(
      'CONFIG_INVALID',
      `Key Vault certificate "${ctx.name}" is still pending: finish it with \`npm run ca -- import\``,
    );
  }
  const key = await getKey(ctx, cert.keyId);
  const handle = new KeyVaultKeyHandle(key, credential, ctx.clientOptions, ctx.policy);
  const certificateDer = new Uint8Array(cert.cer);
  const x509 = new X509Certificate(certificateDer);
  const certSpki = new Uint8Array(x509.publicKey.export({ format: 'der', type: 'spki' }));
  if (!Buffer.from(certSpki).equals(Buffer.from(handle.publicKeySpki))) {
    throw new AppError(
      'CONFIG_INVALID',
      `Key Vault certificate "${ctx.name}" does not match its key ${handle.label}`,
    );
  }
  return {
    certificateDer,
    chainDer: parseChain(settings.chainPem, certificateDer),
    signer: new KeyVaultSigner(handle),
    decrypter: new KeyVaultDecrypter(handle),
    counter: ctx.policy.counter,
  };
}

/** The certificate object, or undefined when the vault has none of that name. */
export async function getCaCertificate(
  ctx: VaultContext,
): Promise<KeyVaultCertificateWithPolicy | undefined> {
  try {
    return await callKeyVault(
      { ...target(ctx, `certificates/${ctx.name}`, 'getCertificate'), expectedStatuses: [404] },
      ctx.policy,
      (abortSignal) => ctx.certificates.getCertificate(ctx.name, { abortSignal }),
    );
  } catch (e) {
    if (e instanceof KeyVaultError && e.status === 404) return undefined;
    throw e;
  }
}

/** The key behind a certificate (`kid`, with version): fetched once, then used from memory. */
export async function getKey(ctx: VaultContext, keyId: string): Promise<KeyVaultKey> {
  const { name, version } = parseKeyVaultKeyIdentifier(keyId);
  try {
    return await callKeyVault(
      target(ctx, `keys/${name}/${version ?? ''}`, 'getKey'),
      ctx.policy,
      (abortSignal) => ctx.keys.getKey(name, { version, abortSignal }),
    );
  } catch (e) {
    if (e instanceof KeyVaultError && e.status === 404) {
      throw new AppError(
        'CONFIG_INVALID',
        `Key Vault key ${name}/${version ?? ''} was not found in ${ctx.url} (${e.vaultCode ?? '404'})`,
        {
          cause: e,
        },
      );
    }
    throw e;
  }
}

export function target(ctx: VaultContext, object: string, operation: string) {
  return { vault: ctx.url, object, operation };
}
