import type { TokenCredential } from '@azure/identity';
import type { Settings } from '../config/index.js';
import type { Logger } from '../log.js';
import { MemoryMessageQueue } from '../queue/memory.js';
import type { MessageQueue } from '../queue/types.js';
import type { Sqlite } from '../store/sqlite.js';
import { MemoryAuditStore } from './memory.js';
import { AuditSink } from './sink.js';
import type { AuditStore } from './store.js';

/** Name of the audit outbox queue, next to the Intune notification queue. */
export const AUDIT_OUTBOX_QUEUE = 'audit-outbox';

/**
 * The audit store and sink for the composition root: beside the certificate store — Cosmos DB
 * (container `audit`), the embedded database (table `audit`), or memory. The outbox is a Storage queue on the Intune
 * notification queue's connection when there is one, else in-process.
 */
export async function createAudit(
  settings: Settings,
  credential: () => Promise<TokenCredential>,
  logger: Logger,
  clock: () => Date,
  database?: Sqlite,
): Promise<{ store: AuditStore; sink: AuditSink }> {
  const store = await createAuditStore(settings, credential, database, clock);
  const outbox = await createOutbox(settings, credential);
  return { store, sink: new AuditSink({ store, logger, outbox, clock }) };
}

async function createAuditStore(
  settings: Settings,
  credential: () => Promise<TokenCredential>,
  database: Sqlite | undefined,
  clock: () => Date,
): Promise<AuditStore> {
  const cosmos = settings.cosmos;
  if (cosmos.endpoint === undefined) {
    if (!database) return new MemoryAuditStore();
    const { SqliteAuditStore } = await import('./sqlite.js');
    return new SqliteAuditStore(database, { retentionDays: settings.audit.retentionDays, now: clock });
  }
  const { createCosmosClient } = await import('../store/cosmos-factory.js');
  const { CosmosAuditStore } = await import('./cosmos.js');
  return new CosmosAuditStore({
    client: createCosmosClient(cosmos, cosmos.key === undefined ? await credential() : undefined),
    databaseName: cosmos.databaseName,
    container: settings.audit.container,
    retentionDays: settings.audit.retentionDays,
    timeoutMs: cosmos.timeoutMs,
    createIfNotExists: cosmos.createIfNotExists,
  });
}

async function createOutbox(
  settings: Settings,
  credential: () => Promise<TokenCredential>,
): Promise<MessageQueue> {
  const connection = settings.intune.enabled ? settings.intune.queue.connection : undefined;
  if (!connection) return new MemoryMessageQueue(AUDIT_OUTBOX_QUEUE);
  const { createStorageQueue } = await import('../queue/storage.js');
  return connection.kind === 'connectionString'
    ? createStorageQueue(connection, AUDIT_OUTBOX_QUEUE)
    : createStorageQueue(connection, AUDIT_OUTBOX_QUEUE, await credential());
}
