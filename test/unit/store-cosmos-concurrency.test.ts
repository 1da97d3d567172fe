import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CertificateRecord, CertificateStore, CreateResult } from '../../lib/store/types.js';
import { MemoryCertificateStore } from '../../lib/store/memory.js';
import { type TestCosmos, startTestCosmos } from '../fakes/cosmos.js';
import { mapConcurrent } from '../fakes/pool.js';
import { searchAll, testRecord } from './store-contract.js';

/**
 * Store-level load: 1,000 creates at concurrency 32 through the real client, then replays of the
 * same transactions (each with a freshly "signed" certificate, as a retried enrollment would
 * bring) and same-transaction races. The full-enrollment version lives with the SCEP service.
 */
const N = 1000;
const CONCURRENCY = 32;

let cosmos: TestCosmos;
beforeAll(async () => {
  cosmos = await startTestCosmos();
});
afterAll(async () => {
  await cosmos.close();
});

const winner = (r: CreateResult): CertificateRecord => (r.created ? r.record : r.existing);

async function loadAndReplay(store: CertificateStore): Promise<void> {
  const originals = Array.from({ length: N }, (_, i) => testRecord(i, { endpoint: `ep-${i % 4}` }));
  const created = await mapConcurrent(originals, CONCURRENCY, (rec) => store.create(rec));
  expect(created.every((r) => r.created)).toBe(true);

  const all = (await searchAll(store, { limit: 1000 })).items;
  expect(all).toHaveLength(N);
  expect(new Set(all.map((r) => r.serialNumber)).size).toBe(N);

  const replays = originals.map((o, i) =>
    testRecord(i, { transactionKey: o.transactionKey, endpoint: o.endpoint }),
  );
  const replayed = await mapConcurrent(replays, CONCURRENCY, (rec) => store.create(rec));
  replayed.forEach((r, i) => {
    expect(r.created).toBe(false);
    expect(winner(r).serialNumber).toBe(originals[i]!.serialNumber);
    expect(winner(r).der).toBe(originals[i]!.der);
  });
  expect((await searchAll(store, { limit: 1000 })).items).toHaveLength(N);
}

describe('certificate store under concurrent load', () => {
  it(
    'ok/Cosmos: 1,000 creates at concurrency 32 give 1,000 records and serials; replays give the same certificates',
    { timeout: 120_000 },
    async () => {
      await loadAndReplay(cosmos.createStore({ timeoutMs: 30_000 }));
    },
  );

  it('ok/memory: the same load, same outcome', async () => {
    await loadAndReplay(new MemoryCertificateStore());
  });

  it(
    'ok/Cosmos: two racing creates of one transaction record exactly one certificate',
    { timeout: 60_000 },
    async () => {
      const store = cosmos.createStore({ timeoutMs: 30_000 });
      const pairs = Array.from({ length: 100 }, (_, i) => {
        const a = testRecord(i);
        return [a, testRecord(i, { transactionKey: a.transactionKey })] as const;
      });
      const results = await mapConcurrent(pairs, CONCURRENCY, ([a, b]) =>
        Promise.all([store.create(a), store.create(b)]),
      );
      for (const [ra, rb] of results) {
        expect([ra.created, rb.created].filter(Boolean)).toHaveLength(1);
        expect(winner(ra).serialNumber).toBe(winner(rb).serialNumber);
      }
      const all = (await searchAll(store, { limit: 1000 })).items;
      expect(all).toHaveLength(100);
      for (const [ra] of results)
        expect((await store.getBySerial(winner(ra).serialNumber))?.der).toBe(winner(ra).der);
    },
  );
});
