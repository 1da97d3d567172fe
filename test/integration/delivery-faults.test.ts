import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessageType, PKIStatus } from '../../lib/scep/types.js';
import { startFakeIntune, type FakeIntune } from '../fakes/intune-server.js';
import { startFakeKeyVault, type FakeKeyVault } from '../fakes/keyvault-server.js';
import { startTestHost, type TestHost } from '../helpers/host.js';
import { INTUNE_PATH, callsFor, intuneEnv, recordsOfTransaction, waitFor } from '../helpers/intune-flow.js';
import { makeCert, makeCsr, rsaKey } from '../helpers/pki.js';
import { snapshotProcessEnv } from '../helpers/process-env.js';
import { buildPkiMessage, readCertRep } from '../helpers/scep-client.js';

/**
 * A certificate is announced only when it is delivered. Black-box symptom: a Key Vault sign fault
 * on the CertRep signature, after the certificate was signed and recorded, gave the device HTTP
 * 503 and no certificate while Intune already had the successNotification.
 */

let vault: FakeKeyVault;
let fake: FakeIntune;
let host: TestHost;
let restoreEnv: () => void;

beforeAll(async () => {
  restoreEnv = snapshotProcessEnv();
  vault = await startFakeKeyVault();
  const kv = await vault.initCa({ certificateName: 'delivery-ca', subject: 'CN=Delivery CA' });
  fake = await startFakeIntune();
  host = await startTestHost(
    {
      ...intuneEnv(fake),
      AppConfig__KeyVaultConfig__KeyVaultURL: kv.url ?? vault.url,
      AppConfig__KeyVaultConfig__RootCertificateConfig__CertificateName: kv.certificateName,
    },
    { credential: vault.credential },
  );
});
afterAll(async () => {
  await host.close();
  await fake.close();
  await vault.close();
  restoreEnv();
});

describe('delivery before announcement', () => {
  it('fail/a Key Vault fault on the CertRep signature after the certificate was signed: HTTP 503, Intune hears nothing; the retry replays the same certificate and only then announces it, never also as failed', async () => {
    const key = rsaKey(2048, 'delivery-device');
    const signer = await makeCert({ key, subject: 'CN=SCEP SIGNER' });
    const transactionId = randomUUID().toUpperCase();
    const csr = await makeCsr({ key, subject: 'CN=delivery-device', challenge: 'intune-challenge-ok' });
    const message = buildPkiMessage({
      messageType: MessageType.PKCSReq,
      transactionId,
      content: csr,
      recipients: [host.ca],
      signerKey: key,
      signerCert: signer.cert,
    });
    const url = `${INTUNE_PATH}?operation=PKIOperation`;

    // The certificate signature goes through; every CertRep signature attempt fails.
    vault.fail('sign', { status: 500, skip: 1, times: Infinity });
    const first = await host.post(url, message);
    expect(first.status).toBe(503);
    const firstBody = Buffer.from(await first.arrayBuffer()).toString('utf8');
    expect(firstBody).not.toMatch(/BEGIN CERTIFICATE/);
    const [record] = await recordsOfTransaction(transactionId);
    expect(record?.notification?.state).toBe('undelivered');
    // The queue worker polls every 0.5 s: give it time to (wrongly) announce.
    await new Promise((r) => setTimeout(r, 1500));
    expect(callsFor(fake, 'successNotification', transactionId)).toHaveLength(0);
    // Nor is it announced as failed: the retry below completes it, and Intune must never hear both.
    expect(callsFor(fake, 'failureNotification', transactionId)).toHaveLength(0);

    vault.clearFaults();
    const retry = await host.post(url, message);
    expect(retry.status).toBe(200);
    const rep = await readCertRep(new Uint8Array(await retry.arrayBuffer()), key, signer.cert);
    expect(rep.status, rep.failInfoText).toBe(PKIStatus.SUCCESS);
    expect(rep.certificates[0]?.serialNumber.toLowerCase().replace(/^(00)+/, '')).toBe(record?.serialNumber);
    const sent = await waitFor('successNotification', () => {
      const calls = callsFor(fake, 'successNotification', transactionId);
      return calls.length > 0 ? calls : undefined;
    });
    expect(sent).toHaveLength(1);
    expect(callsFor(fake, 'failureNotification', transactionId)).toHaveLength(0);
    expect(await recordsOfTransaction(transactionId)).toHaveLength(1);
  });
});
