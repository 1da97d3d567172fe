import { randomUUID } from 'node:crypto';
import type { CosmosClient } from '@azure/cosmos';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CosmosAuditStore } from '../../lib/audit/cosmos.js';
import type { AuditInput } from '../../lib/audit/event.js';
import { AuditSink } from '../../lib/audit/sink.js';
import { memoryLogger } from '../../lib/log.js';
import { MemoryMessageQueue } from '../../lib/queue/memory.js';
import { createCosmosClient } from '../../lib/store/cosmos-factory.js';
import { startTestCosmos, type TestCosmos } from '../fakes/cosmos.js';
import { type FaultProxy, startFaultProxy, writesTo } from '../fakes/fault-proxy.js';

/**
 * The sink between decisions and the audit store, against the real Cosmos DB client with faults
 * injected between it and the local server: recording never throws or waits, an event the store
 * refuses is in the log line and in the outbox, and draining the outbox stores each event once.
 */
let cosmos: TestCosmos;
let proxy: FaultProxy;
const clients: CosmosClient[] = [];
let direct: CosmosAuditStore;
let viaProxy: CosmosAuditStore;
const poison = new MemoryMessageQueue('audit-outbox-poison');

const input = (i: number): AuditInput => ({
  kind: 'enrollment',
  operation: 'PKCSReq',
  endpoint: 'lab',
  outcome: i % 2 === 0 ? 'issued' : 'refused',
  reason: i % 2 === 0 ? 'issued' : 'challenge-mismatch',
  subject: `CN=sink-${i}`,
});

function auditStore(endpoint: string, databaseName: string, timeoutMs: number): CosmosAuditStore {
  const client = createCosmosClient({ ...cosmos.settings(), endpoint, maxThrottleRetries: 0 });
  clients.push(client);
  return new CosmosAuditStore({
    client,
    databaseName,
    container: 'audit',
    retentionDays: 400,
    timeoutMs,
    createIfNotExists: true,
  });
}

async function count(): Promise<string[]> {
  const ids: string[] = [];
  for await (const e of direct.stream({})) ids.push(e.id);
  return ids;
}

beforeAll(async () => {
  cosmos = await startTestCosmos();
  proxy = await startFaultProxy(cosmos.endpoint);
});
afterAll(async () => {
  for (const c of clients) c.dispose();
  await proxy.close();
  await cosmos.close();
});
beforeEach(async () => {
  proxy.setFaults();
  const db = `sink-${randomUUID()}`;
  direct = auditStore(cosmos.endpoint, db, 10_000);
  await direct.append([]);
  viaProxy = auditStore(proxy.endpoint, db, 1500);
});

describe('audit sink', () => {
  it('ok/recorded events reach the store in batches, each once', async () => {
    const sink = new AuditSink({
      store: viaProxy,
      logger: memoryLogger(),
      outbox: new MemoryMessageQueue('o'),
      poison: new MemoryMessageQueue('p'),
      batchSize: 10,
    });
    const recorded = Array.from({ length: 25 }, (_, i) => sink.record(input(i))!.id);
    await sink.flush();
    expect((await count()).sort()).toEqual([...recorded].sort());
  });

  it('fail/the store refuses: record still returns at once, the log line and the outbox carry every event, and a drain stores each once', async () => {
    proxy.setFaults({ match: writesTo('audit'), action: { kind: 'reset' } });
    const logger = memoryLogger();
    const outbox = new MemoryMessageQueue('audit-outbox');
    const sink = new AuditSink({ store: viaProxy, logger, outbox, poison, retryDelaysMs: [10] });
    const started = performance.now();
    const ids = Array.from({ length: 5 }, (_, i) => sink.record(input(i))!.id);
    expect(performance.now() - started).toBeLessThan(1000);
    await sink.flush();
    expect(logger.entries.filter((e) => e.fields.audit === true).map((e) => e.fields.id)).toEqual(ids);
    expect(outbox.texts).toHaveLength(5);
    expect(await count()).toEqual([]);

    proxy.setFaults();
    expect(await sink.drainOutbox()).toBe(5);
    expect(outbox.texts).toHaveLength(0);
    expect((await count()).sort()).toEqual([...ids].sort());
  });

  it('fail/writes land but the answers are lost: the outbox retry does not duplicate them', async () => {
    proxy.setFaults({ match: writesTo('audit'), action: { kind: 'unavailable-after-forward' } });
    const outbox = new MemoryMessageQueue('audit-outbox');
    const sink = new AuditSink({
      store: viaProxy,
      logger: memoryLogger(),
      outbox,
      poison,
      retryDelaysMs: [10],
    });
    const ids = Array.from({ length: 4 }, (_, i) => sink.record(input(i))!.id);
    await sink.flush();
    expect(outbox.texts.length).toBeGreaterThan(0);
    proxy.setFaults();
    await sink.drainOutbox();
    expect((await count()).sort()).toEqual([...ids].sort());
  });

  it('fail/the outbox refuses too: the event is still in the log line, and nothing throws', async () => {
    proxy.setFaults({ match: writesTo('audit'), action: { kind: 'reset' } });
    const logger = memoryLogger();
    const outbox = new MemoryMessageQueue('audit-outbox');
    outbox.send = () => Promise.reject(new Error('queue down'));
    const sink = new AuditSink({ store: viaProxy, logger, outbox, poison, retryDelaysMs: [] });
    const e = sink.record(input(0))!;
    await expect(sink.flush()).resolves.toBeUndefined();
    expect(logger.entries[0]!.fields).toMatchObject({ audit: true, id: e.id, reason: 'issued' });
    expect(logger.entries.some((x) => x.level === 'error' && x.fields.id === e.id)).toBe(true);
  });
});
