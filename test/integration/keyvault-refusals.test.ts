import 'reflect-metadata';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FailInfo, MessageType, PKIStatus } from '../../lib/scep/types.js';
import { startFakeKeyVault, type FakeKeyVault } from '../fakes/keyvault-server.js';
import { startTestHost, type TestHost } from '../helpers/host.js';
import { ecKey, makeCsr } from '../helpers/pki.js';
import { snapshotProcessEnv } from '../helpers/process-env.js';
import { buildPkiMessage, readCertRep } from '../helpers/scep-client.js';
import { selfSignedClient, type ScepClientIdentity } from '../helpers/scep-flow.js';

/**
 * Unauthenticated requests do not spend the CA key: Key Vault operations per refused request,
 * counted at a Key Vault-compatible server through the real SDK, and the per-endpoint
 * concurrency limit (AppConfig__ConcurrentSCEPRequestLimit) that sheds excess with 503.
 */

let vault: FakeKeyVault;
let host: TestHost;
let client: ScepClientIdentity;
let restoreEnv: () => void;

beforeAll(async () => {
  restoreEnv = snapshotProcessEnv();
  vault = await startFakeKeyVault();
  const kv = await vault.initCa({ certificateName: 'refusals-ca', subject: 'CN=Refusals CA' });
  host = await startTestHost(
    {
      AppConfig__KeyVaultConfig__KeyVaultURL: kv.url ?? vault.url,
      AppConfig__KeyVaultConfig__RootCertificateConfig__CertificateName: kv.certificateName,
      AppConfig__ConcurrentSCEPRequestLimit: '1',
      AppConfig__RequestBudgetSeconds: '5',
    },
    { credential: vault.credential },
  );
  client = await selfSignedClient('keyvault-refusals');
});
afterAll(async () => {
  await host.close();
  await vault.close();
  restoreEnv();
});
beforeEach(() => {
  vault.clearFaults();
  vault.resetCounts();
});

let seq = 0;

async function message(o: { messageType?: MessageType; tamper?: boolean } = {}): Promise<Uint8Array> {
  const transactionId = `refusal-${++seq}`;
  const csr = await makeCsr({
    key: ecKey('P-256'),
    subject: `CN=${transactionId}`,
    challenge: 'test-challenge-1',
  });
  const msg = buildPkiMessage({
    messageType: o.messageType ?? MessageType.PKCSReq,
    transactionId,
    content: csr,
    recipients: [host.ca],
    signerKey: client.key,
    signerCert: client.signer.cert,
  });
  if (o.tamper) {
    // The last byte belongs to the SignerInfo signature.
    msg[msg.length - 1] = (msg[msg.length - 1] ?? 0) ^ 0x01;
  }
  return msg;
}

async function send(msg: Uint8Array) {
  const res = await host.post('/scep/static?operation=PKIOperation', msg);
  const body = new Uint8Array(await res.arrayBuffer());
  return { res, body };
}

describe('Key Vault operations per refused request', () => {
  it('ok/warm-up: a valid enrollment signs twice and unwraps once', async () => {
    const { res, body } = await send(await message());
    expect(res.status).toBe(200);
    expect((await readCertRep(body, client.key, client.signer.cert)).status).toBe(PKIStatus.SUCCESS);
  });

  it('fail/a pkiMessage whose signature does not verify costs exactly one vault operation (the FAILURE signature)', async () => {
    vault.resetCounts();
    const { res, body } = await send(await message({ tamper: true }));
    expect(res.status).toBe(200);
    const rep = await readCertRep(body, client.key, client.signer.cert);
    expect(rep.status).toBe(PKIStatus.FAILURE);
    expect(rep.failInfo).toBe(FailInfo.badMessageCheck);
    expect(vault.counts()).toEqual({ sign: 1 });
  });

  it('fail/a RenewalReq signed by a certificate this CA never issued costs one vault operation, no decrypt', async () => {
    vault.resetCounts();
    const { body } = await send(await message({ messageType: MessageType.RenewalReq }));
    const rep = await readCertRep(body, client.key, client.signer.cert);
    expect(rep.failInfoText).toMatch(/renewal-signer-not-ours/);
    expect(vault.counts()).toEqual({ sign: 1 });
  });
});

describe('AppConfig__ConcurrentSCEPRequestLimit', () => {
  it('fail/a PKIOperation beyond the per-endpoint limit is shed with 503 + Retry-After, without a vault call', async () => {
    // Hold the first request in its certificate signature.
    vault.fail('sign', { delayMs: 2500 });
    const first = send(await message());
    await new Promise((r) => setTimeout(r, 500));
    const before = vault.counts();
    const { res } = await send(await message());
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(vault.counts()).toEqual(before);
    const held = await first;
    expect(held.res.status).toBe(200);
    // GetCACaps is not limited, and the slot is free again afterwards.
    expect((await fetch(`${host.scepUrl}?operation=GetCACaps`)).status).toBe(200);
    expect((await send(await message())).res.status).toBe(200);
  });
});

describe('one time budget per request (AppConfig__RequestBudgetSeconds)', () => {
  it('fail/with the vault hanging, the whole request (certificate signature and FAILURE signature) ends within one budget, 503 and no certificate', async () => {
    vault.fail('sign', { delayMs: 60_000, times: Infinity });
    const started = performance.now();
    const { res, body } = await send(await message());
    const elapsed = performance.now() - started;
    expect(res.status).toBe(503);
    expect(Buffer.from(body).toString('utf8')).not.toMatch(/vault|BEGIN CERTIFICATE/i);
    // One budget of 5 s, not 5 s for the certificate and 5 s more for the FAILURE.
    expect(elapsed).toBeGreaterThanOrEqual(4_500);
    expect(elapsed).toBeLessThan(9_000);
    vault.clearFaults();
  });
});
