import type { IntuneSettings } from '../config/intune.js';
import type { SecretReader } from '../keys/secrets.js';
import type { IntuneConnection } from '../model/endpoint.js';
import type { IntuneClient } from './client.js';
import { certificateCredential, managedIdentityCredential } from './credentials.js';
import { intuneClientFor, type IntuneClientFactoryOptions } from './factory.js';
import type { ClientCredential } from './tokens.js';

/** How long a secret read from Key Vault is reused before it is read again (rotation). */
export const SECRET_TTL_MS = 60 * 60_000;
const MAX_CLIENTS = 500;

/**
 * One IntuneClient per stored Intune connection (tenant, app registration, credential), shared
 * by every endpoint that names the same connection, so each tenant keeps its own token cache and
 * service discovery. The secret or certificate is read from Key Vault when a token is needed
 * and reused for SECRET_TTL_MS; a failed read, or one Entra ID answered invalid_client (a rotated
 * secret), is read again on the next token request.
 */
export class IntuneConnections {
  private readonly clients = new Map<string, IntuneClient>();
  private readonly now: () => number;

  constructor(
    private readonly settings: IntuneSettings,
    private readonly readSecret: SecretReader,
    private readonly options: IntuneClientFactoryOptions = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  clientFor(c: IntuneConnection): IntuneClient {
    const key = JSON.stringify([c.tenantId.toLowerCase(), c.applicationId.toLowerCase(), c.credential]);
    let client = this.clients.get(key);
    if (!client) {
      if (this.clients.size >= MAX_CLIENTS) this.clients.delete(this.clients.keys().next().value ?? '');
      client = intuneClientFor(this.settings, c.tenantId, c.applicationId, this.credential(c), this.options);
      this.clients.set(key, client);
    }
    return client;
  }

  private credential(c: IntuneConnection): ClientCredential {
    const cred = c.credential;
    if (cred.kind === 'managedIdentity')
      return managedIdentityCredential(cred.clientId, this.settings.federatedTokenAudience);
    const { read, forget } = this.cachedSecret(cred.keyVaultSecretUri);
    if (cred.kind === 'secret') return { kind: 'secret', secret: read, onRejected: forget };
    return {
      kind: 'assertion',
      getAssertion: async (tokenEndpoint) =>
        certificateCredential(await read(), c.applicationId, this.options.now).getAssertion(tokenEndpoint),
      onRejected: forget,
    };
  }

  /** The secret, read again after SECRET_TTL_MS, or at once after `forget` (Entra ID refused it). */
  private cachedSecret(uri: string): { read: () => Promise<string>; forget: () => void } {
    let cached: { at: number; value: Promise<string> } | undefined;
    const read = (): Promise<string> => {
      if (!cached || this.now() - cached.at >= SECRET_TTL_MS) {
        const value = this.readSecret(uri);
        const entry = { at: this.now(), value };
        cached = entry;
        value.catch(() => {
          if (cached === entry) cached = undefined;
        });
      }
      return cached.value;
    };
    return {
      read,
      forget: () => {
        cached = undefined;
      },
    };
  }
}
