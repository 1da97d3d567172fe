import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getApp } from '../../lib/app.js';
import { createCosmosStore } from '../../lib/store/cosmos-factory.js';
import type { CertificateRecord } from '../../lib/store/types.js';
import { MessageType, PKIStatus } from '../../lib/scep/types.js';
import { startLocalCosmos } from '../../scripts/local-cosmos.js';
import { mapConcurrent } from '../fakes/pool.js';
import { startTestHost } from '../helpers/host.js';
import { ecKey, makeCsr } from '../helpers/pki.js';
import { buildPkiMessage, readCertRep } from '../helpers/scep-client.js';
import { postPkiOperation, selfSignedClient, type ScepClientIdentity } from '../helpers/scep-flow.js';
import { searchAll, testRecord } from '../unit/store-contract.js';

/**
 * The embedded default's database (`<dataDir>/ca.db`) behind the real host: uniqueness under
 * load is the database's, records survive a restart, and an earlier version's
 * `.data/cosmos.json` is imported on first start.
 */

const CHALLENGE = 'test-challenge-1';
let dir: string;
let signer: ScepClientIdentity;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scep-embedded-'));
  signer = await selfSignedClient('embedded-store');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const norm = (s: string): string => s.toLowerCase().replace(/^(?:00)+(?=..)/, '');

describe('embedded database store behind the host', () => {
  it('ok/1,000 enrollments at concurrency 32 → 1,000 distinct serials and 1,000 records, still there after a restart', async () => {
    const dataDir = join(dir, 'load');
    let host = await startTestHost({}, { store: 'sqlite', dataDir });
    const key = ecKey('P-256');
    const messages = await Promise.all(
      Array.from({ length: 1000 }, async (_, i) =>
        buildPkiMessage({
          messageType: MessageType.PKCSReq,
          transactionId: `load-${i}`,
          content: await makeCsr({ key, subject: `CN=load-${i}`, challenge: CHALLENGE }),
          recipients: [host.ca],
          signerKey: signer.key,
          signerCert: signer.signer.cert,
        }),
      ),
    );
    const reps = await mapConcurrent(messages, 32, async (msg) =>
      readCertRep(await postPkiOperation(host, msg), signer.key, signer.signer.cert),
    );
    expect(reps.map((r) => r.status)).toEqual(new Array<number>(1000).fill(PKIStatus.SUCCESS));
    const serials = new Set(reps.map((r) => norm(r.certificates[0]!.serialNumber)));
    expect(serials.size).toBe(1000);
    const recorded = await searchAll((await getApp()).store, { limit: 1000 });
    expect(recorded.items).toHaveLength(1000);
    expect(new Set(recorded.items.map((r) => norm(r.serialNumber)))).toEqual(serials);

    await host.close();
    host = await startTestHost({}, { store: 'sqlite', dataDir });
    try {
      const store = (await getApp()).store;
      expect((await searchAll(store, { limit: 1000 })).items).toHaveLength(1000);
      expect((await store.getByTransactionKey(recorded.items[0]!.transactionKey!))?.serialNumber).toBe(
        recorded.items[0]!.serialNumber,
      );
    } finally {
      await host.close();
    }
  }, 300_000);

  it('ok/.data/cosmos.json of an earlier version is imported on first start and renamed to cosmos.json.migrated', async () => {
    const dataDir = join(dir, 'upgrade');
    const local = await startLocalCosmos({ dataFile: join(dataDir, 'cosmos.json') });
    const cosmos = createCosmosStore({
      cosmos: {
        endpoint: local.endpoint,
        key: local.key,
        databaseName: 'scepca',
        certificatesContainer: 'certificates',
        transactionsContainer: 'transactions',
        stateContainer: 'state',
        createIfNotExists: true,
        timeoutMs: 5000,
        maxThrottleRetries: 3,
      },
      core: { static: { enableCertificateStorage: true } },
    });
    const records: CertificateRecord[] = [
      testRecord(1),
      testRecord(2),
      testRecord(3, { transactionKey: undefined }),
    ];
    for (const r of records) await cosmos.create(r);
    const first = await cosmos.getBySerial(records[0]!.serialNumber);
    await cosmos.update(first!, {
      status: 'revoked',
      revocation: { reason: 'keyCompromise', date: first!.createdAt },
    });
    await local.close();

    const host = await startTestHost({}, { store: 'sqlite', dataDir });
    try {
      const store = (await getApp()).store;
      for (const r of records) expect((await store.getBySerial(r.serialNumber))?.der).toBe(r.der);
      expect((await store.getBySerial(records[0]!.serialNumber))?.status).toBe('revoked');
      expect((await store.getByTransactionKey(records[1]!.transactionKey!))?.serialNumber).toBe(
        records[1]!.serialNumber,
      );
      expect(existsSync(join(dataDir, 'cosmos.json'))).toBe(false);
      expect(existsSync(join(dataDir, 'cosmos.json.migrated'))).toBe(true);
      expect(existsSync(join(dataDir, 'ca.db'))).toBe(true);
    } finally {
      await host.close();
    }
  });
});
