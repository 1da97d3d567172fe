import type { TokenCredential } from '@azure/identity';
import type { Settings } from '../config/index.js';
import type { QueueConnection } from '../config/intune.js';
import type { Logger } from '../log.js';
import { MemoryMessageQueue } from '../queue/memory.js';
import type { MessageQueue } from '../queue/types.js';
import type { Sqlite } from '../store/sqlite.js';
import { MemoryAuditStore } from './memory.js';
import { AuditSink } from './sink.js';
import type { AuditStore } from './store.js';

/** Name of the audit outbox queue, next to the Intune notification queue. */
export const AUDIT_OUTBOX_QUEUE = 'audit-outbox';
/** Outbox messages that cannot be read or that the store keeps refusing. */
export const AUDIT_POISON_QUEUE = 'audit-outbox-poison';

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
  const connection = settings.intune.enabled ? settings.intune.queue.connection : undefined;
  const queues = await createOutboxQueues(
    connection,
    connection?.kind === 'accountUrl' ? await credential() : undefined,
  );
  return { store, sink: new AuditSink({ store, logger, ...queues, clock }) };
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

/**
 * The outbox and its poison queue. Their messages never expire (time-to-live -1) instead of
 * Storage's default 7 days: an event waits there for as long as the store refuses it.
 */
export async function createOutboxQueues(
  connection: QueueConnection | undefined,
  credential: TokenCredential | undefined,
): Promise<{ outbox: MessageQueue; poison: MessageQueue }> {
  if (!connection) {
    return {
      outbox: new MemoryMessageQueue(AUDIT_OUTBOX_QUEUE),
      poison: new MemoryMessageQueue(AUDIT_POISON_QUEUE),
    };
  }
  const { createStorageQueue } = await import('../queue/storage.js');
  const keep = { keep: true };
  return {
    outbox: createStorageQueue(connection, AUDIT_OUTBOX_QUEUE, credential, keep),
    poison: createStorageQueue(connection, AUDIT_POISON_QUEUE, credential, keep),
  };
}
