import 'reflect-metadata';
import { X509Certificate } from 'node:crypto';
import { CertificateClient } from '@azure/keyvault-certificates';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { storedEvents } from '../helpers/audit.js';
import { getApp } from '../../lib/app.js';
import { parsePkiMessage } from '../../lib/scep/message.js';
import { FailInfo, MessageType, PKIStatus } from '../../lib/scep/types.js';
import { FAKE_TOKEN, startFakeKeyVault, type FakeKeyVault } from '../fakes/keyvault-server.js';
import { startTestHost, type TestHost } from '../helpers/host.js';
import { ecKey, makeCsr } from '../helpers/pki.js';
import { snapshotProcessEnv } from '../helpers/process-env.js';
import { startRestIdentity, type RestIdentity } from '../helpers/rest-token.js';
import { buildPkiMessage, readCertRep, type CertRep } from '../helpers/scep-client.js';
import { recordsForTransaction, selfSignedClient, type ScepClientIdentity } from '../helpers/scep-flow.js';

/**
 * The app with its CA key in (a local stand-in for) Azure Key Vault, through the real SDK
 * clients and the real HTTP host: DESIGN decision 1 ("keys never leave Key Vault"), issue 3's
 * operation budget (≤ 3 vault operations per SCEP enrollment, 1 per REST enrollment, no
 * per-request key fetch) and its fault rules (429 honoured with Retry-After; 5xx, timeouts and
 * an unreachable vault end in a SCEP FAILURE or a REST 503, with no certificate and no record).
 */

const CHALLENGE = 'test-challenge-1';
const CA_NAME = 'scep-ca-integration';

let vault: FakeKeyVault;
let vaultCaDer: Buffer;
let rest: RestIdentity;
let host: TestHost;
let client: ScepClientIdentity;
let restoreEnv: () => void;
/** The app's log lines (JSON), captured from stdout. */
const logLines: string[] = [];

beforeAll(async () => {
  restoreEnv = snapshotProcessEnv();
  // The quiet host logs only with SCEP_HOST_LOGS; keep its lines here instead of on the console.
  process.env.SCEP_HOST_LOGS = '1';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    logLines.push(
      ...String(chunk)
        .split('\n')
        .filter((l) => l.startsWith('{')),
    );
    return true;
  });
  vault = await startFakeKeyVault();
  const kv = await vault.initCa({
    certificateName: CA_NAME,
    subject: 'CN=Vault Integration CA, O=azure-scep-ca tests',
  });
  const certs = new CertificateClient(vault.url, vault.credential, vault.clientOptions);
  const stored = await certs.getCertificate(CA_NAME);
  if (stored.cer === undefined) throw new Error('the fake vault holds no CA certificate');
  vaultCaDer = Buffer.from(stored.cer);
  rest = await startRestIdentity('kv-rest');
  host = await startTestHost(
    {
      AppConfig__KeyVaultConfig__KeyVaultURL: kv.url ?? vault.url,
      AppConfig__KeyVaultConfig__RootCertificateConfig__CertificateName: kv.certificateName,
      ...rest.settings,
    },
    { credential: vault.credential },
  );
  client = await selfSignedClient('keyvault-scep');
});

afterAll(async () => {
  await host.close();
  await rest.close();
  await vault.close();
  vi.restoreAllMocks();
  restoreEnv();
});

beforeEach(() => {
  vault.clearFaults();
  vault.resetCounts();
});

let seq = 0;
const txId = (label: string): string => `kv-${label}-${++seq}`;

/** POST a PKCSReq with a fresh EC P-256 CSR key; the raw HTTP answer and its transactionID. */
async function postEnrollment(
  label: string,
): Promise<{ res: Response; body: Uint8Array; transactionId: string }> {
  const transactionId = txId(label);
  const csr = await makeCsr({
    key: ecKey('P-256'),
    subject: `CN=${transactionId}, O=Test`,
    challenge: CHALLENGE,
  });
  const msg = buildPkiMessage({
    messageType: MessageType.PKCSReq,
    transactionId,
    content: csr,
    recipients: [host.ca],
    signerKey: client.key,
    signerCert: client.signer.cert,
  });
  const res = await host.post('/scep/static?operation=PKIOperation', msg);
  return { res, body: new Uint8Array(await res.arrayBuffer()), transactionId };
}

async function enroll(label: string): Promise<{ rep: CertRep; body: Uint8Array; transactionId: string }> {
  const { res, body, transactionId } = await postEnrollment(label);
  expect(res.status, Buffer.from(body).toString('utf8').slice(0, 300)).toBe(200);
  expect(res.headers.get('content-type')).toBe('application/x-pki-message');
  return { rep: await readCertRep(body, client.key, client.signer.cert), body, transactionId };
}

/** RFC 8894 §3.3.2.2: a signed FAILURE, no pkcsPKIEnvelope, no certificate but the CA's anywhere. */
async function expectFailureWithoutCertificate(r: {
  rep: CertRep;
  body: Uint8Array;
  transactionId: string;
}): Promise<void> {
  expect(r.rep.status).toBe(PKIStatus.FAILURE);
  expect(r.rep.failInfo).toBe(FailInfo.badRequest);
  expect(r.rep.signatureValid).toBe(true);
  expect(r.rep.certificates).toHaveLength(0);
  expect(parsePkiMessage(r.body).envelope).toHaveLength(0);
  expect(r.rep.signerCertificates.map((c) => c.raw.equals(vaultCaDer))).toEqual([true]);
  expect(await recordsForTransaction(r.transactionId)).toEqual([]);
}

async function postRest(cn: string): Promise<Response> {
  const csr = await makeCsr({ key: ecKey('P-256'), subject: `CN=${cn}` });
  return host.post('/api/csr', csr, {
    authorization: `Bearer ${await rest.token()}`,
    'content-type': 'application/pkcs10',
  });
}

async function apiRecordCount(): Promise<number> {
  const { items } = await (await getApp()).store.search({ endpoint: 'api', limit: 1000 });
  return items.length;
}

const total = (counts: Record<string, number>): number => Object.values(counts).reduce((a, b) => a + b, 0);

describe('SCEP with the CA key in Key Vault', () => {
  it('ok/GetCACert returns the CA certificate stored in the vault', async () => {
    const res = await fetch(`${host.scepUrl}?operation=GetCACert`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-x509-ca-cert');
    expect(Buffer.from(await res.arrayBuffer()).equals(vaultCaDer)).toBe(true);
  });

  it('ok/a PKCSReq gets SUCCESS and the certificate verifies against the vault CA', async () => {
    const { rep, transactionId } = await enroll('ok');
    expect(rep.status).toBe(PKIStatus.SUCCESS);
    expect(rep.signatureValid).toBe(true);
    const ca = new X509Certificate(vaultCaDer);
    expect(rep.signerCertificates[0]?.raw.equals(vaultCaDer)).toBe(true);
    const cert = rep.certificates[0]!;
    expect(cert.checkIssued(ca)).toBe(true);
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(await recordsForTransaction(transactionId)).toHaveLength(1);
  });

  it('ok/one SCEP enrollment costs at most 3 vault operations (unwrap + sign + sign) and no key GET', async () => {
    await enroll('warm-up'); // the first call of a client may meet the bearer challenge
    vault.resetCounts();
    const { rep } = await enroll('budget');
    expect(rep.status).toBe(PKIStatus.SUCCESS);
    const counts = vault.counts();
    expect(vault.count('decrypt') + vault.count('unwrapKey'), JSON.stringify(counts)).toBe(1);
    expect(vault.count('sign'), JSON.stringify(counts)).toBe(2);
    expect(total(counts), JSON.stringify(counts)).toBeLessThanOrEqual(3);
    expect(vault.count('getKey')).toBe(0);
    expect(vault.count('getCertificate')).toBe(0);
    expect(vault.challenges).toBe(0);
  });

  it('ok/one REST enrollment costs exactly one vault sign', async () => {
    expect((await postRest('rest-warm-up.example.net')).status).toBe(200);
    vault.resetCounts();
    const res = await postRest('rest-budget.example.net');
    const body = Buffer.from(await res.arrayBuffer());
    expect(res.status, body.toString('utf8').slice(0, 300)).toBe(200);
    const cert = new X509Certificate(body);
    expect(cert.verify(new X509Certificate(vaultCaDer).publicKey)).toBe(true);
    expect(vault.counts()).toEqual({ sign: 1 });
  });
});

describe('SCEP with Key Vault faults', () => {
  it('ok/a 429 on sign is retried after the Retry-After the vault names, then SUCCESS', async () => {
    vault.fail('sign', { status: 429, retryAfter: '1' });
    const started = performance.now();
    const { rep, transactionId } = await enroll('throttled');
    expect(rep.status).toBe(PKIStatus.SUCCESS);
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
    expect(vault.count('sign')).toBe(3);
    expect(await recordsForTransaction(transactionId)).toHaveLength(1);
  });

  it('ok/a 429 on the envelope key decrypt is retried, then SUCCESS', async () => {
    vault.fail('decrypt', { status: 429, retryAfter: '0' });
    vault.fail('unwrapKey', { status: 429, retryAfter: '0' });
    const { rep } = await enroll('throttled-decrypt');
    expect(rep.status).toBe(PKIStatus.SUCCESS);
    expect(vault.count('decrypt') + vault.count('unwrapKey')).toBe(2);
  });

  it('fail/a 429 whose Retry-After outlasts the call time box is not waited out → FAILURE at once', async () => {
    vault.fail('sign', { status: 429, retryAfter: '120' });
    const started = performance.now();
    const r = await enroll('throttled-long');
    await expectFailureWithoutCertificate(r);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(vault.count('sign')).toBe(2); // the refused certificate signature + the CertRep
  });

  it('fail/sign answering 500 on every attempt of the certificate signature → signed FAILURE, no certificate, no record', async () => {
    vault.fail('sign', { status: 500, times: 3 });
    const r = await enroll('sign-500');
    await expectFailureWithoutCertificate(r);
    expect(r.rep.failInfoText).toMatch(/could not sign|retry later/);
    expect(vault.count('sign')).toBe(4); // 3 bounded attempts + the CertRep signature
    const events = await storedEvents({ transactionId: r.transactionId });
    expect(events.map((e) => [e.outcome, e.reason])).toEqual([['failed', 'signing-unavailable']]);
  });

  it('fail/sign answering 500 forever → HTTP 503 (nothing can sign a CertRep), no certificate, no record', async () => {
    vault.fail('sign', { status: 500, times: Infinity });
    const { res, body, transactionId } = await postEnrollment('sign-500-forever');
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).not.toBe('application/x-pki-message');
    expect(Buffer.from(body).toString('utf8')).not.toMatch(/BEGIN CERTIFICATE|stack|at .*\.ts/);
    expect(vault.count('sign')).toBeLessThanOrEqual(6); // bounded: 3 attempts each for certificate and CertRep
    expect(await recordsForTransaction(transactionId)).toEqual([]);
  });

  it('ok/a failed vault call is logged with vault, key and operation, and without token or key material', async () => {
    const mark = logLines.length;
    vault.fail('sign', { status: 500, times: 3 });
    await enroll('logged');
    const lines = logLines.slice(mark);
    const failures = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter(
        (e) => e.message === 'Key Vault call failed' || e.message === 'Key Vault call failed; retrying',
      );
    expect(failures.length, lines.join('\n')).toBe(3);
    for (const f of failures) {
      expect(f).toMatchObject({ vault: expect.stringContaining(vault.url), operation: 'sign', status: 500 });
      expect(String(f.object)).toMatch(new RegExp(`^keys/${CA_NAME}/[0-9a-f]+$`));
    }
    const text = lines.join('\n');
    expect(text).not.toContain(FAKE_TOKEN);
    expect(text).not.toMatch(/PRIVATE KEY|"(d|p|q|dp|dq|qi)":"/);
  });

  it('fail/decrypt answering 500 → signed FAILURE, no certificate signed, no record', async () => {
    vault.fail('decrypt', { status: 500, times: Infinity });
    vault.fail('unwrapKey', { status: 500, times: Infinity });
    const r = await enroll('decrypt-500');
    await expectFailureWithoutCertificate(r);
    expect(r.rep.failInfoText).toMatch(/CA key is unavailable/);
    const events = await storedEvents({ transactionId: r.transactionId });
    expect(events.map((e) => [e.outcome, e.reason])).toEqual([['failed', 'ca-key-unavailable']]);
    expect(vault.count('decrypt') + vault.count('unwrapKey')).toBe(3);
    expect(vault.count('sign')).toBe(1); // the CertRep only
  });

  it('fail/sign that never answers in time → 503 with Retry-After within the one request budget, no certificate, no record', async () => {
    vault.fail('sign', { delayMs: 12_000, times: 3 });
    const started = performance.now();
    const { res, body, transactionId } = await postEnrollment('sign-timeout');
    const elapsed = performance.now() - started;
    // One budget for the whole request (AppConfig__RequestBudgetSeconds, default 25 s), every
    // Key Vault call included: the hanging certificate signature spends it, so no FAILURE can
    // be signed in time either, and the client is told to retry.
    expect(res.status, Buffer.from(body).toString('utf8').slice(0, 300)).toBe(503);
    expect(res.headers.get('retry-after')).not.toBeNull();
    expect(await recordsForTransaction(transactionId)).toEqual([]);
    expect(elapsed).toBeLessThan(28_000);
  }, 60_000);

  it('fail/REST with sign answering 500 → 503 with Retry-After, nothing recorded', async () => {
    const before = await apiRecordCount();
    vault.fail('sign', { status: 500, times: Infinity });
    const res = await postRest('rest-sign-500.example.net');
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).not.toBeNull();
    expect(((await res.json()) as { error: string }).error).toBe('DEPENDENCY_UNAVAILABLE');
    expect(await apiRecordCount()).toBe(before);
  });

  // Last: the vault is shut down for good.
  it('fail/vault down: REST → 503 and SCEP → no certificate, nothing recorded', async () => {
    const before = await apiRecordCount();
    await vault.close();
    const res = await postRest('rest-vault-down.example.net');
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: string }).error).toBe('DEPENDENCY_UNAVAILABLE');
    expect(await apiRecordCount()).toBe(before);
    const scep = await postEnrollment('vault-down');
    // Without the vault nothing can sign a CertRep: an HTTP error, never a certificate.
    expect(scep.res.status).toBe(503);
    expect(await recordsForTransaction(scep.transactionId)).toEqual([]);
  });
});
