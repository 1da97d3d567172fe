import { QueueClient } from '@azure/storage-queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../lib/audit/event.js';
import { AUDIT_OUTBOX_QUEUE, AUDIT_POISON_QUEUE, createOutboxQueues } from '../../lib/audit/factory.js';
import { MemoryAuditStore } from '../../lib/audit/memory.js';
import { AuditSink } from '../../lib/audit/sink.js';
import { dependencyUnavailable } from '../../lib/errors.js';
import { memoryLogger } from '../../lib/log.js';
import { MemoryMessageQueue } from '../../lib/queue/memory.js';
import { type Azurite, startAzurite } from '../fakes/azurite.js';
import { auditEvents } from './audit-store-contract.js';

/**
 * Draining the audit outbox: a message the store always refuses, or one that is not an outbox
 * message, goes to the poison queue (with its text) instead of holding up every later event, and
 * the outbox on Azure Storage keeps its messages past Storage's default 7 days.
 */
let azurite: Azurite;
beforeAll(async () => {
  azurite = await startAzurite();
}, 30_000);
afterAll(async () => {
  await azurite.stop();
});

const message = (e: AuditEvent): string => JSON.stringify({ kind: 'audit', event: e });

/** A store that refuses every batch holding the event `refused`. */
function refusing(refused: string): MemoryAuditStore {
  const store = new MemoryAuditStore();
  const append = store.append.bind(store);
  store.append = (events) =>
    events.some((e) => e.id === refused)
      ? Promise.reject(dependencyUnavailable('the store refused the event'))
      : append(events);
  return store;
}

describe('audit outbox drain', () => {
  it('fail/an event the store always refuses and a message that is not JSON do not block the others; both end in the poison queue', async () => {
    let t = Date.parse('2026-12-01T10:00:00Z');
    const outbox = new MemoryMessageQueue('audit-outbox', () => t);
    const poison = new MemoryMessageQueue('audit-outbox-poison');
    const [first, ...good] = auditEvents(4);
    const bad = first!;
    const store = refusing(bad.id);
    await outbox.send(message(bad));
    await outbox.send('not json {');
    for (const e of good) await outbox.send(message(e));
    const logger = memoryLogger();
    const sink = new AuditSink({ store, logger, outbox, poison, maxDequeueCount: 3 });

    expect(await sink.drainOutbox()).toBe(3);
    expect(store.all.map((e) => e.id).sort()).toEqual(good.map((e) => e.id).sort());
    expect(poison.texts).toEqual(['not json {']);
    for (let drain = 2; drain <= 3; drain++) {
      t += 61_000;
      expect(await sink.drainOutbox()).toBe(0);
    }
    expect(outbox.texts).toEqual([]);
    expect(poison.texts).toEqual(['not json {', message(bad)]);
    const moved = logger.entries.filter((e) => e.level === 'error');
    expect(moved.map((e) => e.fields.text)).toEqual(['not json {', message(bad)]);
  });

  it('ok/the store is down: nothing goes to the poison queue before the dequeue limit, and a later drain stores all', async () => {
    let t = Date.parse('2026-12-01T10:00:00Z');
    const outbox = new MemoryMessageQueue('audit-outbox', () => t);
    const poison = new MemoryMessageQueue('audit-outbox-poison');
    const store = new MemoryAuditStore();
    const append = store.append.bind(store);
    store.append = () => Promise.reject(dependencyUnavailable('down'));
    for (const e of auditEvents(2)) await outbox.send(message(e));
    const sink = new AuditSink({ store, logger: memoryLogger(), outbox, poison, maxDequeueCount: 3 });
    expect(await sink.drainOutbox()).toBe(0);
    t += 61_000;
    expect(await sink.drainOutbox()).toBe(0);
    expect(poison.texts).toEqual([]);
    store.append = append;
    t += 61_000;
    expect(await sink.drainOutbox()).toBe(2);
    expect(outbox.texts).toEqual([]);
  });

  it('ok/the outbox and its poison queue on Azure Storage keep their messages: no 7-day expiry', async () => {
    const connection = { kind: 'connectionString' as const, connectionString: azurite.connectionString };
    const { outbox, poison } = await createOutboxQueues(connection, undefined);
    await outbox.send(message(auditEvents(1)[0]!));
    await poison.send('not json {');
    for (const name of [AUDIT_OUTBOX_QUEUE, AUDIT_POISON_QUEUE]) {
      const [kept] = (await new QueueClient(azurite.connectionString, name).peekMessages())
        .peekedMessageItems;
      expect(kept?.expiresOn.getUTCFullYear()).toBe(9999);
    }
  });
});
