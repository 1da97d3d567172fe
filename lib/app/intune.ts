import type { TokenCredential } from '@azure/identity';
import type { AuditLog } from '../audit/sink.js';
import type { Settings } from '../config/index.js';
import type { IntuneDeps } from '../endpoints/intune.js';
import type { StoredIntuneDeps } from '../endpoints/intune-stored.js';
import { endpointsOf } from '../endpoints/manage.js';
import type { Logger } from '../log.js';
import type { IntuneRevocationRun } from '../revocation/intune-pull.js';
import type { RevocationService } from '../revocation/revoke.js';
import type { DocumentStore } from '../store/documents.js';
import type { CertificateStore } from '../store/types.js';

/** What the Intune connections are built from. */
export interface IntuneSources {
  readonly store: CertificateStore;
  readonly documents: DocumentStore;
  readonly logger: Logger;
  readonly clock: () => Date;
  readonly credential: () => Promise<TokenCredential>;
}

/**
 * Intune: the settings-defined connection (when AppConfig__IntuneValidation__Enabled and its
 * secret resolved), the notification queues (created on first use), and the connections of
 * stored Intune endpoints (secrets read from Key Vault with the app's identity).
 */
export async function createIntune(
  settings: Settings,
  o: IntuneSources,
): Promise<{ intune: IntuneDeps | undefined; stored: StoredIntuneDeps }> {
  const s = settings.intune;
  const [
    { createIntuneClient, createNotificationQueues },
    { IntuneConnections },
    { lazyQueue },
    { FailureOutbox },
  ] = await Promise.all([
    import('../intune/factory.js'),
    import('../intune/connections.js'),
    import('../queue/lazy.js'),
    import('../intune/failure-outbox.js'),
  ]);
  let queues: StoredIntuneDeps['queues'];
  if (s.queue.connection) {
    let both: ReturnType<typeof createNotificationQueues> | undefined;
    const once = (): ReturnType<typeof createNotificationQueues> =>
      (both ??= createNotificationQueues(s).catch((e: unknown) => {
        both = undefined;
        throw e;
      }));
    queues = {
      queue: lazyQueue(s.queue.name, async () => (await once()).queue),
      poison: lazyQueue(s.queue.poisonName, async () => (await once()).poison),
    };
  }
  const outbox = new FailureOutbox(o.documents.collection('state'), o.clock);
  const common = { store: o.store, logger: o.logger, clock: o.clock, outbox };
  const intune: IntuneDeps | undefined =
    s.enabled && s.unavailable === undefined && queues
      ? { client: createIntuneClient(s), ...queues, ...common }
      : undefined;
  const { keyVaultSecretReader } = await import('../keys/secrets.js');
  return {
    intune,
    stored: {
      settings: s,
      builtIn: intune,
      queues,
      connections: new IntuneConnections(s, keyVaultSecretReader(o.credential, { log: o.logger })),
      endpoints: endpointsOf(o.documents),
      ...common,
    },
  };
}

/**
 * Intune revocation: every tick lists the tenants to pull (the settings-defined connection and
 * stored Intune endpoints, read afresh so a changed endpoint counts at the next tick) and pulls
 * each with its own connection's client. The modules load at the first tick.
 */
export function intuneRevocationPull(
  settings: Settings,
  o: {
    builtIn: IntuneDeps | undefined;
    stored: StoredIntuneDeps;
    revocation: RevocationService;
    /** The issuer names of the CAs in use, read at each tick (an activation changes them). */
    caNames: () => Promise<readonly string[]>;
    logger: Logger;
    audit: AuditLog;
  },
): () => Promise<IntuneRevocationRun> {
  const tenantId = settings.intune.auth?.tenantId;
  const builtIn =
    o.builtIn && tenantId !== undefined
      ? { tenantId, client: o.builtIn.client, revocationEnabled: settings.revocation.intuneEnabled }
      : undefined;
  return async () => {
    const [{ IntuneRevocationClient }, { pullAllTenants }, { tenantsToPull }] = await Promise.all([
      import('../revocation/intune-client.js'),
      import('../revocation/intune-pull.js'),
      import('../revocation/intune-tenants.js'),
    ]);
    return pullAllTenants({
      tenants: () =>
        tenantsToPull({
          builtIn,
          endpoints: o.stored.endpoints,
          clientFor: (c) => o.stored.connections.clientFor(c),
        }),
      revocationClient: (client) =>
        new IntuneRevocationClient(client, {
          providerNameAndVersion: settings.intune.providerNameAndVersion,
          timeoutMs: settings.intune.timeoutMs,
        }),
      revocation: o.revocation,
      caNames: await o.caNames(),
      batchSize: settings.revocation.intuneBatchSize,
      logger: o.logger,
      audit: o.audit,
    });
  };
}
