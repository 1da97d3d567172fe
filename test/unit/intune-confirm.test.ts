import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { IntuneClient } from '../../lib/intune/client.js';
import { redrivePending } from '../../lib/intune/notification-redrive.js';
import { confirmSuccessBeforeDelivery } from '../../lib/intune/notification-confirm.js';
import { MemoryMessageQueue } from '../../lib/queue/memory.js';
import { MemoryCertificateStore } from '../../lib/store/memory.js';
import type { CertificateRecord } from '../../lib/store/types.js';
import { makeIntuneCsr, type TestCsr } from '../fakes/intune-csr.js';
import { intuneRecord } from '../fakes/intune-records.js';
import { type FakeIntune, startFakeIntune } from '../fakes/intune-server.js';

/** AppConfig__IntuneValidation__WaitForSuccessNotificationResponse=true (test matrix row 24). */

let fake: FakeIntune;
let csr: TestCsr;
let store: MemoryCertificateStore;
const NOW = new Date('2025-06-01T12:00:00.000Z');
const client = (timeoutMs = 2000) => new IntuneClient({ ...fake.clientOptions(), timeoutMs });

async function issued(): Promise<CertificateRecord> {
  const tx = `tx-${randomUUID()}`;
  expect((await client().validateRequest(tx, csr.base64)).ok).toBe(true);
  const r = await store.create(intuneRecord(randomUUID().replace(/-/g, ''), tx, csr.base64));
  if (!r.created) throw new Error('not created');
  return r.record;
}

beforeAll(async () => {
  [fake, csr] = await Promise.all([startFakeIntune(), makeIntuneCsr({ challenge: 'c' })]);
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  store = new MemoryCertificateStore();
});

describe('confirmSuccessBeforeDelivery', () => {
  it('ok/Intune accepted the success notification: deliver, record sent', async () => {
    const record = await issued();
    const r = await confirmSuccessBeforeDelivery({ client: client(), store, now: () => NOW }, record);
    expect(r.deliver).toBe(true);
    expect((await store.getBySerial(record.serialNumber))?.notification).toMatchObject({
      state: 'sent',
      attempts: 1,
    });
    expect(fake.calls.at(-1)?.action).toBe('successNotification');
  });

  it('fail/successNotification answered HTTP 500: no certificate, record failed and never re-driven (row 24)', async () => {
    const record = await issued();
    fake.script({
      action: 'successNotification',
      transactionId: record.transactionId!,
      outcome: { status: 500 },
      times: 1,
    });
    const r = await confirmSuccessBeforeDelivery({ client: client(), store, now: () => NOW }, record);
    expect(r).toMatchObject({ deliver: false, reason: 'intune:http-500' });
    const n = (await store.getBySerial(record.serialNumber))?.notification;
    expect(n).toMatchObject({ state: 'failed', attempts: 1 });
    expect(n?.lastError).toMatch(/^certificate withheld: intune:http-500/);
    const queue = new MemoryMessageQueue('q');
    expect(await redrivePending({ store, queue }, new Date('2100-01-01'))).toEqual({
      requeued: 0,
      failed: 0,
    });
  });

  it('ok/a retried transaction whose notification failed before is confirmed again, then delivered', async () => {
    const record = await issued();
    fake.script({
      action: 'successNotification',
      transactionId: record.transactionId!,
      outcome: { code: 'Whatever' },
      times: 1,
    });
    expect((await confirmSuccessBeforeDelivery({ client: client(), store }, record)).deliver).toBe(false);
    const again = (await store.getBySerial(record.serialNumber))!;
    expect((await confirmSuccessBeforeDelivery({ client: client(), store }, again)).deliver).toBe(true);
    expect((await store.getBySerial(record.serialNumber))?.notification).toMatchObject({
      state: 'sent',
      attempts: 2,
    });
  });

  it('ok/an already-sent notification is delivered without calling Intune again', async () => {
    const record = await issued();
    await confirmSuccessBeforeDelivery({ client: client(), store }, record);
    const calls = fake.calls.length;
    const sent = (await store.getBySerial(record.serialNumber))!;
    expect((await confirmSuccessBeforeDelivery({ client: client(), store }, sent)).deliver).toBe(true);
    expect(fake.calls).toHaveLength(calls);
  });

  it('fail/no answer in time withholds the certificate', async () => {
    const record = await issued();
    fake.script({
      action: 'successNotification',
      transactionId: record.transactionId!,
      outcome: { hang: true },
      times: 1,
    });
    const r = await confirmSuccessBeforeDelivery({ client: client(300), store }, record);
    expect(r).toMatchObject({ deliver: false, reason: 'intune:timeout' });
  });

  it('has seen no contract violation', () => {
    expect(fake.violations).toEqual([]);
  });
});
