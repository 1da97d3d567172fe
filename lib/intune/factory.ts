import type { IntuneSettings } from '../config/intune.js';
import { AppError } from '../errors.js';
import type { MessageQueue } from '../queue/types.js';
import { IntuneClient } from './client.js';
import { certificateCredential, managedIdentityCredential } from './credentials.js';
import type { FetchLike } from './http.js';
import type { ClientCredential } from './tokens.js';

/**
 * Builders for the composition root (lib/app/intune.ts): an IntuneClient and the notification
 * queues from validated settings. The storage SDK and @azure/identity are loaded only when called.
 */

export interface IntuneClientFactoryOptions {
  readonly fetch?: FetchLike;
  readonly now?: () => number;
}

/** The settings-defined Intune connection (AppConfig__AuthConfig__*). */
export function createIntuneClient(
  s: IntuneSettings,
  options: IntuneClientFactoryOptions = {},
): IntuneClient {
  const auth = s.auth;
  if (!auth) {
    throw new AppError(
      'CONFIG_INVALID',
      'Intune validation needs AppConfig__AuthConfig__ApplicationId, __TenantId and __ApplicationKey',
    );
  }
  const c = auth.credential;
  const credential: ClientCredential =
    c.kind === 'secret'
      ? { kind: 'secret', secret: c.secret }
      : c.kind === 'certificate'
        ? settingCertificate(c.pem, auth.applicationId, options.now)
        : managedIdentityCredential(c.clientId, c.audience);
  return intuneClientFor(s, auth.tenantId, auth.applicationId, credential, options);
}

/** The start stops on a PEM it cannot use; the message names the setting to fix. */
function settingCertificate(pem: string, clientId: string, now?: () => number): ClientCredential {
  try {
    return certificateCredential(pem, clientId, now);
  } catch (e) {
    const why = e instanceof AppError ? e.message : 'it cannot be read';
    throw new AppError('CONFIG_INVALID', `AppConfig__AuthConfig__ApplicationCertificatePem: ${why}`, {
      cause: e,
    });
  }
}

/**
 * An IntuneClient for one tenant and app registration; the service addresses (authority,
 * Graph, Intune resource, API version, time box) are the CA-wide settings, shared by the
 * settings-defined connection and every stored endpoint's connection.
 */
export function intuneClientFor(
  s: IntuneSettings,
  tenantId: string,
  applicationId: string,
  credential: ClientCredential,
  options: IntuneClientFactoryOptions = {},
): IntuneClient {
  return new IntuneClient({
    tenantId,
    clientId: applicationId,
    credential,
    providerNameAndVersion: s.providerNameAndVersion,
    authority: s.authority,
    graphBase: s.graphBaseUrl,
    graphVersion: s.graphApiVersion,
    intuneResource: s.intuneResourceUrl,
    intuneAppId: s.intuneAppId,
    scepApiVersion: s.scepApiVersion,
    timeoutMs: s.timeoutMs,
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
}

/**
 * The notification queue and its poison queue (`<name>-poison`, as the Functions host names it),
 * whose messages never expire.
 */
export async function createNotificationQueues(
  s: IntuneSettings,
): Promise<{ readonly queue: MessageQueue; readonly poison: MessageQueue }> {
  const connection = s.queue.connection;
  if (!connection) {
    throw new AppError(
      'CONFIG_INVALID',
      `the notification queue needs the setting ${s.queue.connectionSetting}`,
    );
  }
  const { createStorageQueue } = await import('../queue/storage.js');
  // A given-up notification waits for an operator's re-drive; a failure has no record to redo it from.
  const keep = { keep: true };
  if (connection.kind === 'connectionString') {
    return {
      queue: createStorageQueue(connection, s.queue.name),
      poison: createStorageQueue(connection, s.queue.poisonName, undefined, keep),
    };
  }
  const { DefaultAzureCredential } = await import('@azure/identity');
  const credential = new DefaultAzureCredential(
    connection.managedIdentityClientId === undefined
      ? {}
      : { managedIdentityClientId: connection.managedIdentityClientId },
  );
  return {
    queue: createStorageQueue(connection, s.queue.name, credential),
    poison: createStorageQueue(connection, s.queue.poisonName, credential, keep),
  };
}
