import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../lib/errors.js';
import {
  CERTIFICATES_INDEXING_POLICY,
  CERTIFICATES_PARTITION_KEY_PATH,
  claimId,
} from '../../lib/store/cosmos.js';
import { createCosmosClient } from '../../lib/store/cosmos-factory.js';
import { type TestCosmos, startTestCosmos } from '../fakes/cosmos.js';
import { certificateStoreContract, testRecord } from './store-contract.js';

let cosmos: TestCosmos;
beforeAll(async () => {
  cosmos = await startTestCosmos();
});
afterAll(async () => {
  await cosmos.close();
});

certificateStoreContract('CosmosCertificateStore', () => cosmos.createStore());

describe('CosmosCertificateStore: layout and protocol', () => {
  it('ok/creates database and containers with the exported partition keys and indexing policy', async () => {
    const settings = cosmos.settings();
    const store = cosmos.createStore({ databaseName: settings.databaseName });
    await store.ping();
    const client = createCosmosClient(settings);
    const { resource } = await client.database(settings.databaseName).container('certificates').read();
    expect(resource?.partitionKey?.paths).toEqual([CERTIFICATES_PARTITION_KEY_PATH]);
    expect(resource?.indexingPolicy?.includedPaths).toEqual(CERTIFICATES_INDEXING_POLICY.includedPaths);
    const tx = await client.database(settings.databaseName).container('transactions').read();
    expect(tx.resource?.partitionKey?.paths).toEqual(['/id']);
    client.dispose();
  });

  it('ok/a claim without its certificate document is rolled forward before it is returned', async () => {
    const settings = cosmos.settings();
    const store = cosmos.createStore({ databaseName: settings.databaseName });
    await store.ping();
    const rec = testRecord(1);
    const client = createCosmosClient(settings);
    const id = claimId(rec.transactionKey!);
    // What a create that failed between its two writes leaves behind.
    await client
      .database(settings.databaseName)
      .container('transactions')
      .items.create({ id, transactionKey: rec.transactionKey, serialNumber: rec.serialNumber, record: rec });
    expect(await store.getBySerial(rec.serialNumber)).toBeUndefined();
    expect((await store.getByTransactionKey(rec.transactionKey!))?.der).toBe(rec.der);
    expect((await store.getBySerial(rec.serialNumber))?.der).toBe(rec.der);
    client.dispose();
  });

  it('ok/create repeated with the same record (a caller retry) reports created', async () => {
    const store = cosmos.createStore();
    const rec = testRecord(2);
    await store.create(rec);
    const again = await store.create(rec);
    expect(again.created).toBe(true);
  });

  it('fail/a different certificate under an existing serial number is a CONFLICT', async () => {
    const store = cosmos.createStore();
    const rec = testRecord(3, { transactionKey: undefined });
    await store.create(rec);
    const clash = { ...testRecord(4, { transactionKey: undefined }), serialNumber: rec.serialNumber };
    await expect(store.create(clash)).rejects.toMatchObject({ code: 'CONFLICT' });
  });

  it('fail/a continuation token that is not one gives BAD_REQUEST', async () => {
    const store = cosmos.createStore();
    await store.create(testRecord(5));
    const e: unknown = await store.search({ continuationToken: 'not-a-token' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AppError);
    expect(e).toMatchObject({ code: 'BAD_REQUEST' });
  });

  it('fail/without createIfNotExists a missing container is DEPENDENCY_UNAVAILABLE', async () => {
    const store = cosmos.createStore({ createIfNotExists: false });
    await expect(store.create(testRecord(6))).rejects.toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE' });
    await expect(store.ping()).rejects.toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE' });
  });
});
