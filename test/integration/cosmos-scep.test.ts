import 'reflect-metadata';
import { AsnParser } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { storedEvents } from '../helpers/audit.js';
import { getApp } from '../../lib/app.js';
import { serialHex } from '../../lib/ca/sign.js';
import { parsePkiMessage } from '../../lib/scep/message.js';
import { FailInfo, MessageType, PKIStatus } from '../../lib/scep/types.js';
import type { CertificateRecord } from '../../lib/store/types.js';
import { startTestCosmos, type TestCosmos } from '../fakes/cosmos.js';
import { anyRequest, startFaultProxy, writesTo, type FaultProxy } from '../fakes/fault-proxy.js';
import { mapConcurrent } from '../fakes/pool.js';
import { startTestHost, type TestHost } from '../helpers/host.js';
import { ecKey, makeCsr, rsaKey } from '../helpers/pki.js';
import { snapshotProcessEnv } from '../helpers/process-env.js';
import { startRestIdentity, type RestIdentity } from '../helpers/rest-token.js';
import { buildPkiMessage, readCertRep, type CertRep } from '../helpers/scep-client.js';
import {
  pkcsReq,
  postPkiOperation,
  recordsForTransaction,
  selfSignedClient,
  type ScepClientIdentity,
} from '../helpers/scep-flow.js';

/**
 * The app with its certificate store on Cosmos DB (issue 4) through the real HTTP host and the
 * real @azure/cosmos client: the in-process Cosmos-compatible server of `npm start` under load
 * and across a restart, and a test server behind a fault proxy to prove that a certificate the
 * store could not record never reaches the client (DESIGN decision 3) and that a retried
 * transaction gets exactly one certificate (decision 4).
 */

const CHALLENGE = 'test-challenge-1';
const SUCCESS: number = PKIStatus.SUCCESS;
// The store's canonical serial: lower-case hex without redundant leading zero octets.
const norm = (serial: string): string => serial.toLowerCase().replace(/^(?:00)+(?=..)/, '');

/** Every record of the host's store, page by page (a search returns at most 1,000). */
async function allRecords(): Promise<CertificateRecord[]> {
  const store = (await getApp()).store;
  const out: CertificateRecord[] = [];
  let continuationToken: string | undefined;
  do {
    const page = await store.search({ limit: 1000, ...(continuationToken ? { continuationToken } : {}) });
    out.push(...page.items);
    continuationToken = page.continuationToken;
  } while (continuationToken !== undefined);
  return out;
}

describe('1,000 SCEP enrollments on the Cosmos-compatible store', () => {
  const N = 1000;
  const CONCURRENCY = 32;
  let host: TestHost;
  let restoreEnv: () => void;
  let signers: ScepClientIdentity[];
  let messages: { msg: Uint8Array; signer: ScepClientIdentity }[];
  let firstSerials: string[];

  beforeAll(async () => {
    restoreEnv = snapshotProcessEnv();
    host = await startTestHost({}, { store: 'cosmos' });
    // A few RSA request signers (the reply is encrypted to them); every CSR has its own EC key.
    signers = await Promise.all([0, 1, 2, 3].map((i) => selfSignedClient(`cosmos-signer-${i}`)));
    messages = await Promise.all(
      Array.from({ length: N }, async (_, i) => {
        const signer = signers[i % signers.length]!;
        const csr = await makeCsr({
          key: ecKey('P-256'),
          subject: `CN=cosmos-${i}, O=Test`,
          challenge: CHALLENGE,
        });
        return { msg: pkcsReq(host, signer, `cosmos-load-${i}`, csr), signer };
      }),
    );
  }, 120_000);
  afterAll(async () => {
    await host.close();
    restoreEnv();
  });

  const run = (): Promise<CertRep[]> =>
    mapConcurrent(messages, CONCURRENCY, async ({ msg, signer }) =>
      readCertRep(await postPkiOperation(host, msg), signer.key, signer.signer.cert),
    );

  it('ok/1,000 enrollments at concurrency 32 → 1,000 SUCCESS, 1,000 distinct serials, 1,000 records', async () => {
    const reps = await run();
    const failed = reps.flatMap((r, i) =>
      r.status === SUCCESS ? [] : [`${i}: ${r.failInfoText ?? r.status}`],
    );
    expect(failed).toEqual([]);
    firstSerials = reps.map((r) => norm(r.certificates[0]!.serialNumber));
    expect(new Set(firstSerials).size).toBe(N);
    reps.forEach((r, i) => {
      expect(r.certificates[0]!.subject).toContain(`CN=cosmos-${i}`);
    });
    const records = await allRecords();
    expect(records).toHaveLength(N);
    expect(new Set(records.map((r) => norm(r.serialNumber)))).toEqual(new Set(firstSerials));
  }, 180_000);

  it('ok/replaying the same 1,000 messages → the same certificates, still 1,000 records', async () => {
    expect(firstSerials).toHaveLength(N);
    const reps = await run();
    expect(reps.filter((r) => r.status !== SUCCESS)).toHaveLength(0);
    expect(reps.map((r) => norm(r.certificates[0]!.serialNumber))).toEqual(firstSerials);
    expect(await allRecords()).toHaveLength(N);
  }, 180_000);

  it('ok/20 concurrent copies of one new request → one certificate, one record', async () => {
    const signer = signers[0]!;
    const csr = await makeCsr({ key: ecKey('P-256'), subject: 'CN=cosmos-identical', challenge: CHALLENGE });
    const msg = pkcsReq(host, signer, 'cosmos-identical', csr);
    const reps = await Promise.all(
      Array.from({ length: 20 }, async () =>
        readCertRep(await postPkiOperation(host, msg), signer.key, signer.signer.cert),
      ),
    );
    expect(reps.map((r) => r.status)).toEqual(new Array<number>(20).fill(PKIStatus.SUCCESS));
    expect(new Set(reps.map((r) => r.certificates[0]!.serialNumber)).size).toBe(1);
    expect(await recordsForTransaction('cosmos-identical')).toHaveLength(1);
  });
});

describe('Cosmos DB faults through the app', () => {
  let cosmos: TestCosmos;
  let proxy: FaultProxy;
  let rest: RestIdentity;
  let host: TestHost;
  let restoreEnv: () => void;
  let signer: ScepClientIdentity;
  let seq = 0;

  beforeAll(async () => {
    restoreEnv = snapshotProcessEnv();
    cosmos = await startTestCosmos();
    proxy = await startFaultProxy(cosmos.endpoint);
    rest = await startRestIdentity('cosmos-rest');
    host = await startTestHost({
      ...rest.settings,
      AppConfig__CosmosDb__Endpoint: proxy.endpoint,
      AppConfig__CosmosDb__Key: 'any-local-key',
      AppConfig__CosmosDb__DatabaseName: `faults-${Date.now()}`,
      AppConfig__CosmosDb__TimeoutSeconds: '2',
      AppConfig__CosmosDb__MaxThrottleRetries: '3',
    });
    signer = await selfSignedClient('cosmos-faults');
  });
  afterAll(async () => {
    await host.close();
    await rest.close();
    await proxy.close();
    await cosmos.close();
    restoreEnv();
  });
  beforeEach(() => {
    proxy.setFaults();
  });

  async function message(label: string): Promise<{ msg: Uint8Array; transactionId: string }> {
    const transactionId = `fault-${label}-${++seq}`;
    const csr = await makeCsr({ key: ecKey('P-256'), subject: `CN=${transactionId}`, challenge: CHALLENGE });
    return { msg: pkcsReq(host, signer, transactionId, csr), transactionId };
  }

  async function send(msg: Uint8Array): Promise<{ rep: CertRep; der: Uint8Array }> {
    const der = await postPkiOperation(host, msg);
    return { rep: await readCertRep(der, signer.key, signer.signer.cert), der };
  }

  /** A signed FAILURE without pkcsPKIEnvelope; only the CA certificate travels in the reply. */
  function expectNoCertificate(r: { rep: CertRep; der: Uint8Array }): void {
    expect(r.rep.status).toBe(PKIStatus.FAILURE);
    expect(r.rep.failInfo).toBe(FailInfo.badRequest);
    expect(r.rep.signatureValid).toBe(true);
    expect(r.rep.certificates).toHaveLength(0);
    expect(parsePkiMessage(r.der).envelope).toHaveLength(0);
    expect(r.rep.signerCertificates).toHaveLength(1);
    expect(r.rep.signerCertificates[0]!.checkIssued(r.rep.signerCertificates[0]!)).toBe(true);
  }

  /** The retry of the same message gets a certificate, and the store holds exactly that one. */
  async function expectRetryRecordedOnce(msg: Uint8Array, transactionId: string): Promise<string> {
    const again = await send(msg);
    expect(again.rep.status, again.rep.failInfoText).toBe(PKIStatus.SUCCESS);
    const serial = norm(again.rep.certificates[0]!.serialNumber);
    const records = await recordsForTransaction(transactionId);
    expect(records.map((r) => norm(r.serialNumber))).toEqual([serial]);
    const byTransaction = records[0]!;
    expect((await (await getApp()).store.getBySerial(byTransaction.serialNumber))?.thumbprintSha256).toBe(
      byTransaction.thumbprintSha256,
    );
    return serial;
  }

  it('ok/an enrollment through the proxy succeeds and is recorded', async () => {
    const { msg, transactionId } = await message('baseline');
    expect((await send(msg)).rep.status).toBe(PKIStatus.SUCCESS);
    expect(await recordsForTransaction(transactionId)).toHaveLength(1);
  });

  it('fail/store down (every connection dropped) → FAILURE, no certificate; after recovery the retry gets one, recorded once', async () => {
    const { msg, transactionId } = await message('down');
    proxy.setFaults({ match: anyRequest, action: { kind: 'reset' } });
    expectNoCertificate(await send(msg));
    proxy.setFaults();
    expect(await recordsForTransaction(transactionId)).toEqual([]);
    await expectRetryRecordedOnce(msg, transactionId);
    // The refusal was recorded while the store was down too (through the audit outbox).
    const events = await storedEvents({ transactionId });
    expect(events.map((e) => [e.outcome, e.reason])).toEqual([
      ['failed', 'store-unavailable'],
      ['issued', 'issued'],
    ]);
  });

  it('fail/503 after the certificate document landed → FAILURE; the retry returns that same certificate, one record', async () => {
    const { msg, transactionId } = await message('cert-503');
    proxy.setFaults({
      match: writesTo('certificates'),
      action: { kind: 'unavailable-after-forward' },
      times: 1,
    });
    expectNoCertificate(await send(msg));
    expect(proxy.log.some((l) => l.fault === 'unavailable-after-forward')).toBe(true);
    proxy.setFaults();
    await expectRetryRecordedOnce(msg, transactionId);
  });

  it('fail/503 after the transaction claim landed → FAILURE; the retry gets the claimed certificate, one record', async () => {
    const { msg, transactionId } = await message('claim-503');
    proxy.setFaults({
      match: writesTo('transactions'),
      action: { kind: 'unavailable-after-forward' },
      times: 1,
    });
    expectNoCertificate(await send(msg));
    proxy.setFaults();
    await expectRetryRecordedOnce(msg, transactionId);
  });

  it('fail/the store never answers → FAILURE within the store deadline, no certificate', async () => {
    const { msg, transactionId } = await message('hang');
    proxy.setFaults({ match: writesTo('certificates'), action: { kind: 'hang' } });
    const started = performance.now();
    expectNoCertificate(await send(msg));
    expect(performance.now() - started).toBeLessThan(10_000);
    proxy.setFaults();
    await expectRetryRecordedOnce(msg, transactionId);
  });

  it('fail/REST with the certificate write failing → 503, no certificate; the next request is recorded', async () => {
    const post = async (cn: string): Promise<Response> =>
      host.post('/api/csr', await makeCsr({ key: ecKey('P-256'), subject: `CN=${cn}` }), {
        authorization: `Bearer ${await rest.token()}`,
        'content-type': 'application/pkcs10',
      });
    const apiRecords = async (): Promise<CertificateRecord[]> =>
      (await (await getApp()).store.search({ endpoint: 'api', limit: 1000 })).items;
    const before = (await apiRecords()).length;
    proxy.setFaults({ match: writesTo('certificates'), action: { kind: 'reset' } });
    const res = await post('rest-store-down.example.net');
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(((await res.json()) as { error: string }).error).toBe('DEPENDENCY_UNAVAILABLE');
    proxy.setFaults();
    expect(await apiRecords()).toHaveLength(before);
    const ok = await post('rest-store-up.example.net');
    expect(ok.status).toBe(200);
    expect(await apiRecords()).toHaveLength(before + 1);
  });

  it('ok/a 429 with x-ms-retry-after-ms on the certificate write is retried → SUCCESS, one record', async () => {
    const { msg, transactionId } = await message('throttled');
    proxy.setFaults({
      match: writesTo('certificates'),
      action: { kind: 'throttle', retryAfterMs: 50 },
      times: 2,
    });
    const r = await send(msg);
    expect(r.rep.status, r.rep.failInfoText).toBe(PKIStatus.SUCCESS);
    expect(proxy.log.filter((l) => l.fault === 'throttle').length).toBeGreaterThanOrEqual(2);
    expect(await recordsForTransaction(transactionId)).toHaveLength(1);
  });
});

describe('the Cosmos-compatible store survives a restart of the local host', () => {
  let dataDir: string;
  let restoreEnv: () => void;
  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'scep-ca-cosmos-restart-'));
    restoreEnv = snapshotProcessEnv();
  });
  afterAll(() => {
    restoreEnv();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('ok/a record written before close is found after restart, and a RenewalReq signed by its certificate is accepted', async () => {
    const env = { AppConfig__StaticValidation__AllowRenewals: 'true' };
    const key = rsaKey(2048, 'cosmos-restart');
    const client = await selfSignedClient('cosmos-restart');
    let serial: string;
    let certDer: Buffer;
    const first = await startTestHost(env, { store: 'cosmos', dataDir });
    try {
      const csr = await makeCsr({ key, subject: 'CN=restart-device, O=Test', challenge: CHALLENGE });
      const der = await postPkiOperation(first, pkcsReq(first, client, 'restart-tx', csr));
      const rep = await readCertRep(der, client.key, client.signer.cert);
      expect(rep.status, rep.failInfoText).toBe(PKIStatus.SUCCESS);
      serial = norm(rep.certificates[0]!.serialNumber);
      certDer = rep.certificates[0]!.raw;
    } finally {
      await first.close();
      restoreEnv();
    }

    const second = await startTestHost(env, { store: 'cosmos', dataDir });
    try {
      const stored = await (await getApp()).store.getBySerial(serial);
      expect(stored?.subject).toContain('CN=restart-device');
      expect(Buffer.from(stored?.der ?? '', 'base64').equals(certDer)).toBe(true);
      // RenewalReq signed by the issued certificate with its key, same identity, no challenge.
      const issued = AsnParser.parse(certDer, Certificate);
      expect(norm(serialHex(issued.tbsCertificate.serialNumber))).toBe(serial);
      const csr = await makeCsr({
        key: rsaKey(2048, 'cosmos-restart-next'),
        subject: 'CN=restart-device, O=Test',
      });
      const msg = buildPkiMessage({
        messageType: MessageType.RenewalReq,
        transactionId: 'restart-renewal',
        content: csr,
        recipients: [second.ca],
        signerKey: key,
        signerCert: issued,
      });
      const rep = await readCertRep(await postPkiOperation(second, msg), key, issued);
      expect(rep.status, rep.failInfoText).toBe(PKIStatus.SUCCESS);
      expect(norm(rep.certificates[0]!.serialNumber)).not.toBe(serial);
      const renewed = await recordsForTransaction('restart-renewal');
      expect(renewed.map((r) => r.authorization)).toEqual(['renewal']);
    } finally {
      await second.close();
    }
  }, 60_000);
});
