import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CosmosSettings } from '../../lib/config/cosmos.js';
import { createCosmosStore } from '../../lib/store/cosmos-factory.js';
import type { CertificateStore } from '../../lib/store/types.js';
import { type LocalCosmos, startLocalCosmos } from '../../scripts/local-cosmos.js';
import { testRecord } from './store-contract.js';

let dir: string;
let dataFile: string;
const running: LocalCosmos[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scepca-cosmos-'));
  dataFile = join(dir, 'data', 'cosmos.json');
});
afterEach(async () => {
  for (const l of running.splice(0)) await l.close().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

function storeOn(local: LocalCosmos): CertificateStore {
  const cosmos: CosmosSettings = {
    endpoint: local.endpoint,
    databaseName: 'scepca',
    certificatesContainer: 'certificates',
    transactionsContainer: 'transactions',
    stateContainer: 'state',
    key: local.key,
    createIfNotExists: true,
    timeoutMs: 5000,
    maxThrottleRetries: 3,
  };
  return createCosmosStore({ cosmos, core: { static: { enableCertificateStorage: true } } });
}

async function start(): Promise<{ local: LocalCosmos; store: CertificateStore }> {
  const local = await startLocalCosmos({ dataFile, onError: (m) => expect.fail(m) });
  running.push(local);
  return { local, store: storeOn(local) };
}

describe('startLocalCosmos: the embedded default', () => {
  it('ok/records survive a restart, findable by serial and transactionKey, and stay updatable', async () => {
    const first = await start();
    const rec = testRecord(1);
    const created = await first.store.create(rec);
    if (!created.created) throw new Error('not created');
    await first.store.update(created.record, {
      notification: { state: 'pending', attempts: 0, updatedAt: rec.createdAt },
    });
    await first.local.close();

    const second = await start();
    expect(second.local.endpoint).not.toBe('');
    const bySerial = await second.store.getBySerial(rec.serialNumber);
    expect(bySerial?.der).toBe(rec.der);
    expect(bySerial?.notification?.state).toBe('pending');
    expect((await second.store.getByTransactionKey(rec.transactionKey!))?.serialNumber).toBe(
      rec.serialNumber,
    );
    const again = await second.store.create(testRecord(1));
    expect(again.created).toBe(false);
    expect(await second.store.update(bySerial!, { status: 'revoked' })).toBeDefined();
    expect((await second.store.search({ status: 'revoked' })).items).toHaveLength(1);
  });

  it('ok/flush() puts every acknowledged write in the data file: a crash after it keeps them', async () => {
    const { local, store } = await start();
    const rec = testRecord(2);
    await store.create(rec);
    await local.flush();
    const copy = join(dir, 'copy.json');
    await writeFile(copy, await readFile(dataFile));
    // Start from the copy, as after a crash that skipped close().
    const crashed = await startLocalCosmos({ dataFile: copy });
    running.push(crashed);
    const store2 = storeOn(crashed);
    expect((await store2.getBySerial(rec.serialNumber))?.der).toBe(rec.der);
  });

  it('ok/a write is snapshotted on its own shortly after, without flush or close', async () => {
    const local = await startLocalCosmos({ dataFile, debounceMs: 5 });
    running.push(local);
    const store = storeOn(local);
    const rec = testRecord(4);
    await store.create(rec);
    await expect
      .poll(() => readFile(dataFile, 'utf8').catch(() => ''), { timeout: 5000, interval: 20 })
      .toContain(rec.serialNumber);
  });

  it('ok/the data file is written atomically and holds the container definitions', async () => {
    const { local, store } = await start();
    await store.create(testRecord(3));
    await local.close();
    const snapshot = JSON.parse(await readFile(dataFile, 'utf8')) as {
      databases: {
        id: string;
        containers: { definition: { id: string; partitionKey: { paths: string[] } } }[];
      }[];
    };
    const db = snapshot.databases.find((d) => d.id === 'scepca');
    expect(db?.containers.map((c) => [c.definition.id, c.definition.partitionKey.paths[0]]).sort()).toEqual([
      ['certificates', '/serialNumber'],
      ['transactions', '/id'],
    ]);
    expect(await readdir(join(dir, 'data'))).toEqual(['cosmos.json']);
  });

  it('fail/a data file that is not a snapshot stops the start instead of starting empty', async () => {
    await mkdir(join(dir, 'data'));
    await writeFile(dataFile, '{"not":"a snapshot"}');
    await expect(startLocalCosmos({ dataFile })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    expect(await readFile(dataFile, 'utf8')).toBe('{"not":"a snapshot"}');
  });
});
