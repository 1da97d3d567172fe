import { randomUUID } from 'node:crypto';
import { QueueClient } from '@azure/storage-queue';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MemoryAuditStore } from '../../lib/audit/memory.js';
import { AuditSink } from '../../lib/audit/sink.js';
import { AppError } from '../../lib/errors.js';
import { silentLogger } from '../../lib/log.js';
import { IntuneClient } from '../../lib/intune/client.js';
import { intuneSection } from '../../lib/config/intune.js';
import { createNotificationQueues } from '../../lib/intune/factory.js';
import { HRESULT } from '../../lib/intune/hresult.js';
import { redrivePending, redrivePoison } from '../../lib/intune/notification-redrive.js';
import {
  type NotificationOutcome,
  processNotification,
  type WorkerDeps,
} from '../../lib/intune/notification-worker.js';
import { announceDelivered, notifyAfterIssue, notifyFailure } from '../../lib/intune/notifications.js';
import { MemoryMessageQueue } from '../../lib/queue/memory.js';
import { createStorageQueue, type StorageMessageQueue } from '../../lib/queue/storage.js';
import { MemoryCertificateStore } from '../../lib/store/memory.js';
import type { CertificateRecord, CertificateStore } from '../../lib/store/types.js';
import { type Azurite, startAzurite } from '../fakes/azurite.js';
import { makeIntuneCsr, type TestCsr } from '../fakes/intune-csr.js';
import { intuneRecord } from '../fakes/intune-records.js';
import { type FakeIntune, startFakeIntune } from '../fakes/intune-server.js';

let azurite: Azurite;
let fake: FakeIntune;
let csr: TestCsr;
let client: IntuneClient;
let store: MemoryCertificateStore;
let queue: StorageMessageQueue;
let poison: StorageMessageQueue;
let backoffs: number[];
const NOW = new Date('2025-06-01T12:00:00.000Z');

function deps(extra: Partial<WorkerDeps> = {}): WorkerDeps {
  return {
    client,
    store,
    queue,
    poison,
    now: () => NOW,
    maxAttempts: 3,
    backoffSeconds: (attempt) => {
      backoffs.push(attempt);
      return 0;
    },
    ...extra,
  };
}

/** What the Functions host does: receive, decode, JSON-parse, hand over dequeueCount, delete on success. */
async function deliverNext(d: WorkerDeps = deps()): Promise<NotificationOutcome | undefined> {
  const [m] = await d.queue.receive(1, 30);
  if (!m) return undefined;
  const outcome = await processNotification(JSON.parse(m.text), { dequeueCount: m.dequeueCount }, d);
  await d.queue.delete(m);
  return outcome;
}

async function issued(
  transactionId = `tx-${randomUUID()}`,
  serial = randomUUID().replace(/-/g, ''),
): Promise<CertificateRecord> {
  expect((await client.validateRequest(transactionId, csr.base64)).ok).toBe(true);
  const r = await store.create(intuneRecord(serial, transactionId, csr.base64));
  if (!r.created) throw new Error('not created');
  return r.record;
}

/** An audit sink on a memory trail: what the worker records. */
function auditTrail() {
  const store = new MemoryAuditStore();
  const sink = new AuditSink({
    store,
    logger: silentLogger,
    outbox: new MemoryMessageQueue('audit-outbox'),
    poison: new MemoryMessageQueue('audit-outbox-poison'),
  });
  return { sink, events: async () => (await sink.flush(), [...store.all]) };
}

async function state(serial: string) {
  return (await store.getBySerial(serial))?.notification;
}

beforeAll(async () => {
  [azurite, fake, csr] = await Promise.all([
    startAzurite(),
    startFakeIntune(),
    makeIntuneCsr({ challenge: 'c' }),
  ]);
  client = new IntuneClient({ ...fake.clientOptions(), timeoutMs: 2000 });
}, 30_000);
afterAll(async () => {
  await Promise.all([azurite.stop(), fake.close()]);
});
beforeEach(() => {
  const name = `n${randomUUID().slice(0, 8)}`;
  const connection = { kind: 'connectionString', connectionString: azurite.connectionString } as const;
  queue = createStorageQueue(connection, name);
  poison = createStorageQueue(connection, `${name}-poison`);
  store = new MemoryCertificateStore();
  backoffs = [];
});

describe('notification queue (Azurite)', () => {
  it('ok/notifyAfterIssue writes base64 JSON, as the Functions queue trigger decodes by default', async () => {
    const record = await issued('tx-wire', 'aa01');
    expect(await notifyAfterIssue({ queue }, record)).toEqual({ queued: true });
    const raw = new QueueClient(azurite.connectionString, queue.name);
    const [m] = (await raw.receiveMessages()).receivedMessageItems;
    expect(JSON.parse(Buffer.from(m!.messageText, 'base64').toString('utf8'))).toEqual({
      v: 1,
      kind: 'success',
      endpoint: record.endpoint,
      serial: 'aa01',
      transactionId: 'tx-wire',
      certificateRequest: csr.base64,
      attempt: 0,
    });
  });

  it('ok/two deliveries of one certificate (concurrent replays) announce it once, and a retry in progress keeps its attempts', async () => {
    const transactionId = `tx-${randomUUID()}`;
    const serial = randomUUID().replace(/-/g, '');
    const created = await store.create(
      intuneRecord(serial, transactionId, csr.base64, { state: 'undelivered' }),
    );
    if (!created.created) throw new Error('not created');
    // Both replays read the record while it was still undelivered.
    const seen = created.record;
    const d = { queue, store, now: () => NOW };
    await announceDelivered(d, seen);
    const [m] = await queue.receive(1, 30);
    expect(m).toBeDefined();
    // The worker tried once meanwhile and scheduled a retry.
    const pending = (await store.getBySerial(serial))!;
    await store.update(pending, {
      notification: { ...pending.notification!, attempts: 1, lastError: 'intune:http-500' },
    });
    await announceDelivered(d, seen);
    expect(await queue.receive(32, 30)).toEqual([]);
    expect(await state(serial)).toMatchObject({ state: 'pending', attempts: 1 });
  });

  it('ok/the worker sends successNotification from the record and marks it sent', async () => {
    const record = await issued();
    await notifyAfterIssue({ queue }, record);
    const trail = auditTrail();
    expect(await deliverNext(deps({ audit: trail.sink }))).toBe('sent');
    expect(await state(record.serialNumber)).toMatchObject({ state: 'sent', attempts: 1 });
    expect(await trail.events()).toMatchObject([
      {
        kind: 'intune-notification',
        outcome: 'notified',
        reason: 'intune-notified',
        serialNumber: record.serialNumber,
      },
    ]);
    const call = fake.calls.at(-1)!;
    expect(call.action).toBe('successNotification');
    expect(call.fields).toMatchObject({
      transactionId: record.transactionId,
      certificateRequest: csr.base64,
      certificateThumbprint: record.thumbprintSha1,
      certificateSerialNumber: record.serialNumber,
      certificateExpirationDateUtc: '2026-01-01T00:00:00.000Z',
      issuingCertificateAuthority: record.issuer,
    });
    expect(await queue.receive(1, 1)).toEqual([]);
    expect(fake.violations).toEqual([]);
  });

  it('ok/a redelivered message of a sent record is skipped without a second notification', async () => {
    const record = await issued();
    await notifyAfterIssue({ queue }, record);
    await notifyAfterIssue({ queue }, record);
    expect(await deliverNext()).toBe('sent');
    const calls = fake.calls.length;
    expect(await deliverNext()).toBe('skipped');
    expect(fake.calls).toHaveLength(calls);
  });

  it('ok/Intune 500 twice, then Success: retried with backoff, sent on the third attempt', async () => {
    const record = await issued();
    fake.script({
      action: 'successNotification',
      transactionId: record.transactionId!,
      outcome: { status: 500 },
      times: 2,
    });
    await notifyAfterIssue({ queue }, record);
    expect([await deliverNext(), await deliverNext(), await deliverNext()]).toEqual([
      'retry-scheduled',
      'retry-scheduled',
      'sent',
    ]);
    expect(backoffs).toEqual([1, 2]);
    expect(await state(record.serialNumber)).toMatchObject({ state: 'sent', attempts: 3 });
  });

  it('fail/Intune 500 every time: after max attempts the message is poisoned and the record failed', async () => {
    const record = await issued();
    fake.script({
      action: 'successNotification',
      transactionId: record.transactionId!,
      outcome: { status: 500 },
    });
    await notifyAfterIssue({ queue }, record);
    expect([await deliverNext(), await deliverNext(), await deliverNext()]).toEqual([
      'retry-scheduled',
      'retry-scheduled',
      'failed',
    ]);
    expect(await deliverNext()).toBeUndefined();
    const [p] = await poison.receive(1, 30);
    expect(JSON.parse(p!.text)).toMatchObject({ kind: 'success', serial: record.serialNumber, attempt: 3 });
    expect(JSON.parse(p!.text).lastError).toMatch(/^intune:http-500/);
    expect(await state(record.serialNumber)).toMatchObject({ state: 'failed', attempts: 3 });
    expect((await state(record.serialNumber))?.lastError).toMatch(/^intune:http-500/);
  });

  it('fail/a business code from Intune gives up at once (no retry can change it)', async () => {
    const record = await issued();
    fake.script({
      action: 'successNotification',
      transactionId: record.transactionId!,
      outcome: { code: 'SomethingWrong' },
    });
    await notifyAfterIssue({ queue }, record);
    const trail = auditTrail();
    expect(await deliverNext(deps({ audit: trail.sink }))).toBe('failed');
    expect(await state(record.serialNumber)).toMatchObject({
      state: 'failed',
      attempts: 1,
      lastError: expect.stringMatching(/^intune:SomethingWrong/) as unknown,
    });
    // A code outside Microsoft's enum is recorded as intune:Unknown, the log keeps the raw code.
    expect(await trail.events()).toMatchObject([
      { outcome: 'failed', reason: 'intune:Unknown', transactionId: record.transactionId },
    ]);
    expect(await poison.receive(1, 30)).toHaveLength(1);
  });

  it('fail/a malformed message goes to the poison queue untouched', async () => {
    await queue.send('not json at all');
    const [m] = await queue.receive(1, 30);
    expect(await processNotification(m!.text, { dequeueCount: 1 }, deps())).toBe('malformed');
    expect((await poison.receive(1, 30))[0]?.text).toBe('not json at all');
  });

  it('fail/a store failure throws DEPENDENCY_UNAVAILABLE so the host retries the message', async () => {
    const record = await issued();
    const broken: CertificateStore = Object.assign(Object.create(store) as CertificateStore, {
      update: () => Promise.reject(new AppError('DEPENDENCY_UNAVAILABLE', 'store down')),
    });
    await notifyAfterIssue({ queue }, record);
    const [m] = await queue.receive(1, 1);
    await expect(
      processNotification(JSON.parse(m!.text), { dequeueCount: 1 }, deps({ store: broken })),
    ).rejects.toMatchObject({
      code: 'DEPENDENCY_UNAVAILABLE',
    });
  });

  it('ok/failure notifications travel the same way, with a signed HRESULT and ≤255 characters', async () => {
    const transactionId = `tx-${randomUUID()}`;
    await client.validateRequest(transactionId, csr.base64);
    const q = await notifyFailure(
      { queue },
      {
        endpoint: 'intune',
        transactionId,
        certificateRequest: csr.base64,
        hResult: HRESULT.ERROR_TIMEOUT,
        description: 'x'.repeat(400),
      },
    );
    expect(q).toEqual({ queued: true });
    expect(await deliverNext()).toBe('sent');
    const call = fake.calls.at(-1)!;
    expect(call.action).toBe('failureNotification');
    expect(call.fields.hResult).toBe(HRESULT.ERROR_TIMEOUT | 0);
    expect(call.fields.errorDescription).toHaveLength(255);
    expect(fake.violations).toEqual([]);
  });

  it('ok/redrivePending re-enqueues stale pending records once, and nothing else', async () => {
    const stale = await issued();
    await store.update(stale, {
      notification: { ...stale.notification!, updatedAt: '2025-06-01T10:00:00.000Z' },
    });
    const fresh = await issued();
    await store.update(fresh, {
      notification: { ...fresh.notification!, updatedAt: '2025-06-01T11:30:00.000Z' },
    });
    const sent = await issued();
    await store.update(sent, { notification: { ...sent.notification!, state: 'sent' } });
    const olderThan = new Date(NOW.getTime() - 60 * 60_000);
    expect(await redrivePending({ store, queue, now: () => NOW }, olderThan)).toEqual({
      requeued: 1,
      failed: 0,
    });
    expect(await redrivePending({ store, queue, now: () => NOW }, olderThan)).toEqual({
      requeued: 0,
      failed: 0,
    });
    const msgs = await queue.receive(32, 30);
    expect(msgs.map((m) => (JSON.parse(m.text) as { serial: string }).serial)).toEqual([stale.serialNumber]);
    expect((await state(stale.serialNumber))?.updatedAt).toBe(NOW.toISOString());
  });

  it('ok/when the queue cannot be written the record stays pending and the timer delivers it later', async () => {
    const record = await issued();
    const down = Object.assign(new MemoryMessageQueue('down'), {
      send: () => Promise.reject(new AppError('DEPENDENCY_UNAVAILABLE', 'queue down')),
    });
    expect(await notifyAfterIssue({ queue: down }, record)).toEqual({ queued: false });
    expect(await state(record.serialNumber)).toMatchObject({ state: 'pending' });
    await redrivePending({ store, queue, now: () => NOW }, NOW);
    expect(await deliverNext()).toBe('sent');
  });

  it('ok/redrivePoison moves poisoned notifications back with a fresh budget', async () => {
    const record = await issued();
    fake.script({
      action: 'successNotification',
      transactionId: record.transactionId!,
      outcome: { status: 503 },
      times: 3,
    });
    await notifyAfterIssue({ queue }, record);
    while ((await deliverNext()) !== 'failed');
    expect(await redrivePoison({ store, queue, poison, now: () => NOW })).toEqual({ requeued: 1, kept: 0 });
    expect(await state(record.serialNumber)).toMatchObject({ state: 'pending', attempts: 0 });
    expect(await deliverNext()).toBe('sent');
    expect(await poison.receive(1, 1)).toEqual([]);
  });

  it('ok/a given-up notification waits in the poison queue until an operator re-drives it: it never expires', async () => {
    const name = `n${randomUUID().slice(0, 8)}`;
    const settings = intuneSection({
      AzureWebJobsStorage: azurite.connectionString,
      AppConfig__IntuneValidation__NotificationQueueName: name,
    });
    if (!settings.ok) throw new Error(settings.problems.join('; '));
    const queues = await createNotificationQueues(settings.value);
    const record = await issued();
    fake.script({
      action: 'successNotification',
      transactionId: record.transactionId!,
      outcome: { code: 'SomethingWrong' },
    });
    await notifyAfterIssue({ queue: queues.queue }, record);
    expect(await deliverNext(deps(queues))).toBe('failed');
    // A Storage queue message lives 7 days by default; a failure notification has no record to re-drive.
    const raw = new QueueClient(azurite.connectionString, `${name}-poison`);
    const [kept] = (await raw.peekMessages()).peekedMessageItems;
    expect(kept?.expiresOn.getUTCFullYear()).toBe(9999);
  });
});
