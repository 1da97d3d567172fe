import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CosmosCertificateStore } from '../../lib/store/cosmos.js';
import type { CertificateRecord } from '../../lib/store/types.js';
import { type TestCosmos, startTestCosmos } from '../fakes/cosmos.js';
import {
  type FaultProxy,
  anyRequest,
  queries,
  readsFrom,
  startFaultProxy,
  writesTo,
} from '../fakes/fault-proxy.js';
import { testRecord } from './store-contract.js';

/**
 * Fault injection between the real @azure/cosmos client and the local server. What must hold
 * (DESIGN decision 3): a failed write rejects with DEPENDENCY_UNAVAILABLE within the deadline,
 * and nothing a failed attempt left behind is ever handed out unless it is fully recorded
 * (findable by serial AND transactionKey); a retry never yields a second certificate.
 */
const TIMEOUT_MS = 1500;
/** The deadline plus scheduling slack: "bounded time". */
const BOUND_MS = TIMEOUT_MS + 1000;

let cosmos: TestCosmos;
let proxy: FaultProxy;
let store: CosmosCertificateStore;
/** The same database, reached directly: the state after the fault. */
let direct: CosmosCertificateStore;

beforeAll(async () => {
  cosmos = await startTestCosmos();
  proxy = await startFaultProxy(cosmos.endpoint);
});
afterAll(async () => {
  await proxy.close();
  await cosmos.close();
});
beforeEach(async () => {
  proxy.setFaults();
  const databaseName = cosmos.settings().databaseName;
  direct = cosmos.createStore({ databaseName });
  await direct.ping(); // creates database and containers before any fault
  store = cosmos.createStore({
    databaseName,
    endpoint: proxy.endpoint,
    timeoutMs: TIMEOUT_MS,
    maxThrottleRetries: 3,
    createIfNotExists: false,
  });
});
afterEach(() => {
  proxy.setFaults();
});

async function timed<T>(p: Promise<T>): Promise<{ error: unknown; ms: number }> {
  const start = performance.now();
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  return { error, ms: performance.now() - start };
}

/** Whatever the store hands out for this transaction is recorded under both keys. */
async function expectFullyRecordedOrAbsent(rec: CertificateRecord): Promise<CertificateRecord | undefined> {
  const byTx = await direct.getByTransactionKey(rec.transactionKey!);
  if (byTx === undefined) {
    expect(await direct.getBySerial(rec.serialNumber)).toBeUndefined();
    return undefined;
  }
  expect(byTx.serialNumber).toBe(rec.serialNumber);
  expect((await direct.getBySerial(byTx.serialNumber))?.thumbprintSha256).toBe(byTx.thumbprintSha256);
  return byTx;
}

/** A retry of the same transaction (new serial, as a re-signed certificate would have) after the fault. */
async function expectRetryYieldsOneCertificate(rec: CertificateRecord): Promise<void> {
  const retry = testRecord(1, { transactionKey: rec.transactionKey });
  const r = await store.create(retry);
  const winner = r.created ? r.record : r.existing;
  expect((await direct.getBySerial(winner.serialNumber))?.der).toBe(winner.der);
  expect((await direct.getByTransactionKey(rec.transactionKey!))?.serialNumber).toBe(winner.serialNumber);
  const loser = winner.serialNumber === rec.serialNumber ? retry : rec;
  expect(await direct.getBySerial(loser.serialNumber)).toBeUndefined();
}

describe('CosmosCertificateStore under faults', () => {
  it('fail/server down (connection refused): create rejects DEPENDENCY_UNAVAILABLE in bounded time', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) =>
      closed.close(() => {
        resolve();
      }),
    );
    const down = cosmos.createStore({ endpoint: `http://127.0.0.1:${port}/`, timeoutMs: TIMEOUT_MS });
    const c = await timed(down.create(testRecord(1)));
    expect(c.error).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE' });
    expect(c.ms).toBeLessThan(BOUND_MS);
    const r = await timed(down.getBySerial('1234'));
    expect(r.error).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE' });
    expect(r.ms).toBeLessThan(BOUND_MS);
  });

  it('fail/connections dropped before the claim is written: rejects, nothing recorded, retry issues one', async () => {
    const rec = testRecord(1);
    proxy.setFaults({ match: writesTo('transactions'), action: { kind: 'reset' } });
    const c = await timed(store.create(rec));
    expect(c.error).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE' });
    expect(c.ms).toBeLessThan(BOUND_MS);
    proxy.setFaults();
    expect(await expectFullyRecordedOrAbsent(rec)).toBeUndefined();
    await expectRetryYieldsOneCertificate(rec);
  });

  it('fail/every request dropped: reads and search reject too', { timeout: 15_000 }, async () => {
    proxy.setFaults({ match: anyRequest, action: { kind: 'reset' } });
    const calls: (() => Promise<unknown>)[] = [
      () => store.getBySerial('abcd'),
      () => store.getByTransactionKey('k'),
      () => store.search({}),
      () => store.ping(),
    ];
    for (const call of calls) {
      const r = await timed(call());
      expect(r.error).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE' });
      expect(r.ms).toBeLessThan(BOUND_MS);
    }
  });

  it('ok/429 with x-ms-retry-after-ms is retried by the SDK and the create succeeds', async () => {
    const rec = testRecord(1);
    proxy.setFaults(
      { match: writesTo('transactions'), action: { kind: 'throttle', retryAfterMs: 20 }, times: 2 },
      { match: writesTo('certificates'), action: { kind: 'throttle', retryAfterMs: 20 }, times: 1 },
    );
    const r = await store.create(rec);
    expect(r.created).toBe(true);
    expect(proxy.log.filter((l) => l.fault === 'throttle').length).toBeGreaterThanOrEqual(3);
    expect(await expectFullyRecordedOrAbsent(rec)).toBeDefined();
  });

  it('fail/429 beyond the retry budget: rejects DEPENDENCY_UNAVAILABLE, nothing recorded', async () => {
    const rec = testRecord(1);
    proxy.setFaults({ match: writesTo('transactions'), action: { kind: 'throttle', retryAfterMs: 50 } });
    const c = await timed(store.create(rec));
    expect(c.error).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE' });
    expect(c.ms).toBeLessThan(BOUND_MS);
    proxy.setFaults();
    expect(await expectFullyRecordedOrAbsent(rec)).toBeUndefined();
  });

  it('fail/429 on the certificate write after the claim: rejects; the claim is rolled forward, never a second certificate', async () => {
    const rec = testRecord(1);
    proxy.setFaults({ match: writesTo('certificates'), action: { kind: 'throttle', retryAfterMs: 50 } });
    expect((await timed(store.create(rec))).error).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE' });
    proxy.setFaults();
    expect(await direct.getBySerial(rec.serialNumber)).toBeUndefined(); // half-written: claim only
    await expectRetryYieldsOneCertificate(rec);
    expect((await direct.getByTransactionKey(rec.transactionKey!))?.serialNumber).toBe(rec.serialNumber);
  });

  it('fail/503 after the claim landed: rejects; what is returned later is fully recorded', async () => {
    const rec = testRecord(1);
    proxy.setFaults({ match: writesTo('transactions'), action: { kind: 'unavailable-after-forward' } });
    expect((await timed(store.create(rec))).error).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE' });
    proxy.setFaults();
    expect(await direct.getBySerial(rec.serialNumber)).toBeUndefined();
    expect((await expectFullyRecordedOrAbsent(rec))?.der).toBe(rec.der);
    await expectRetryYieldsOneCertificate(rec);
  });

  it('fail/503 after the certificate document landed: rejects; a retry gets that certificate back', async () => {
    const rec = testRecord(1);
    proxy.setFaults({ match: writesTo('certificates'), action: { kind: 'unavailable-after-forward' } });
    expect((await timed(store.create(rec))).error).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE' });
    proxy.setFaults();
    expect((await expectFullyRecordedOrAbsent(rec))?.der).toBe(rec.der);
    await expectRetryYieldsOneCertificate(rec);
  });

  it('fail/connection dropped after the certificate write was sent: rejects; retry never yields a second certificate', async () => {
    const rec = testRecord(1);
    proxy.setFaults({ match: writesTo('certificates'), action: { kind: 'reset-after-forward' } });
    expect((await timed(store.create(rec))).error).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE' });
    proxy.setFaults();
    await expectRetryYieldsOneCertificate(rec);
  });

  it('fail/a write that never answers: rejects DEPENDENCY_UNAVAILABLE at the deadline', async () => {
    const rec = testRecord(1);
    proxy.setFaults({ match: writesTo('certificates'), action: { kind: 'hang' } });
    const c = await timed(store.create(rec));
    expect(c.error).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE' });
    expect(c.ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(c.ms).toBeLessThan(BOUND_MS);
    proxy.setFaults();
    await expectRetryYieldsOneCertificate(rec);
  });

  it('fail/503 on reads and queries: DEPENDENCY_UNAVAILABLE, not "not found"', async () => {
    const rec = testRecord(1);
    await direct.create(rec);
    proxy.setFaults(
      { match: readsFrom('certificates'), action: { kind: 'unavailable-after-forward' } },
      { match: readsFrom('transactions'), action: { kind: 'unavailable-after-forward' } },
      { match: queries, action: { kind: 'unavailable-after-forward' } },
    );
    await expect(store.getBySerial(rec.serialNumber)).rejects.toMatchObject({
      code: 'DEPENDENCY_UNAVAILABLE',
    });
    await expect(store.getByTransactionKey(rec.transactionKey!)).rejects.toMatchObject({
      code: 'DEPENDENCY_UNAVAILABLE',
    });
    await expect(store.search({ endpoint: 'static' })).rejects.toMatchObject({
      code: 'DEPENDENCY_UNAVAILABLE',
    });
  });

  it('fail/503 on an update: rejects; the stored record is either unchanged or fully updated', async () => {
    const r = await direct.create(testRecord(1));
    if (!r.created) throw new Error('not created');
    proxy.setFaults({
      match: (q) => q.method === 'PUT' && q.path.includes('/colls/certificates/docs/'),
      action: { kind: 'unavailable-after-forward' },
    });
    await expect(store.update(r.record, { status: 'revoked' })).rejects.toMatchObject({
      code: 'DEPENDENCY_UNAVAILABLE',
    });
    proxy.setFaults();
    const now = await direct.getBySerial(r.record.serialNumber);
    expect(['issued', 'revoked']).toContain(now?.status);
    expect(now?.der).toBe(r.record.der);
  });
});
