import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestCosmos, startTestCosmos } from '../fakes/cosmos.js';
import { MemoryCertificateStore } from '../../lib/store/memory.js';
import { applyCertificateStoragePolicy, hasStoredCertificate } from '../../lib/store/storage-policy.js';
import { testRecord } from './store-contract.js';

describe('AppConfig__StaticValidation__EnableCertificateStorage', () => {
  it('ok/true (default) keeps the certificate in the record', () => {
    const inner = new MemoryCertificateStore();
    const store = applyCertificateStoragePolicy(inner, true);
    expect(store).toBe(inner);
  });

  it('ok/false records everything but the DER; the issuing caller still gets its DER once', async () => {
    const store = applyCertificateStoragePolicy(new MemoryCertificateStore(), false);
    const rec = testRecord(1);
    const r = await store.create(rec);
    if (!r.created) throw new Error('not created');
    expect(r.record.der).toBe(rec.der);
    const stored = await store.getBySerial(rec.serialNumber);
    expect(stored?.der).toBe('');
    expect(stored && hasStoredCertificate(stored)).toBe(false);
    expect(stored?.thumbprintSha256).toBe(rec.thumbprintSha256);
    expect((await store.getByTransactionKey(rec.transactionKey!))?.serialNumber).toBe(rec.serialNumber);
  });

  it('ok/false: a replay finds the record without DER (to be refused, never re-issued)', async () => {
    const store = applyCertificateStoragePolicy(new MemoryCertificateStore(), false);
    await store.create(testRecord(2));
    const replay = await store.create(testRecord(2));
    expect(replay.created).toBe(false);
    if (replay.created) return;
    expect(hasStoredCertificate(replay.existing)).toBe(false);
  });

  let cosmos: TestCosmos;
  beforeAll(async () => {
    cosmos = await startTestCosmos();
  });
  afterAll(async () => {
    await cosmos.close();
  });

  it('ok/false: updates through the returned record do not write the DER back (Cosmos DB)', async () => {
    const store = applyCertificateStoragePolicy(cosmos.createStore(), false);
    const r = await store.create(testRecord(3));
    if (!r.created) throw new Error('not created');
    const updated = await store.update(r.record, { status: 'revoked' });
    expect(updated?.status).toBe('revoked');
    expect(updated?.der).toBe('');
    expect((await store.getBySerial(r.record.serialNumber))?.der).toBe('');
  });
});
