import 'reflect-metadata';
import { AsnParser } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issuerAndSerial } from '../../testkit/scep-client.js';
import { FailInfo, MessageType, PKIStatus } from '../../lib/scep/types.js';
import { startFakeIntune, type FakeIntune } from '../fakes/intune-server.js';
import type { TestHost } from '../helpers/host.js';
import {
  callsFor,
  enrollIntune,
  INTUNE_PATH,
  intuneEnv,
  recordBySerial,
  recordsOfTransaction,
  startIsolatedHost,
} from '../helpers/intune-flow.js';
import { makeCert, rsaKey } from '../helpers/pki.js';
import { issuerAndSubject } from '../helpers/scep-flow.js';
import { buildPkiMessage, readCertRep, type CertRep } from '../helpers/scep-client.js';

/**
 * WaitForSuccessNotificationResponse=true: a certificate whose success notification Intune has
 * not accepted is never handed out — not by a re-sent PKCSReq, not by CertPoll, not by GetCert,
 * even to the device that asked for it (same key). Once Intune accepts the notification (sent
 * again on the next request), CertPoll and GetCert return it, and Intune hears of it once.
 */

let fake: FakeIntune;
let host: TestHost;

beforeAll(async () => {
  fake = await startFakeIntune();
  host = await startIsolatedHost(
    intuneEnv(fake, { AppConfig__IntuneValidation__WaitForSuccessNotificationResponse: 'true' }),
  );
});
afterAll(async () => {
  await host.close();
  await fake.close();
});

describe('WaitForSuccessNotificationResponse through CertPoll and GetCert', () => {
  it('fail/an unconfirmed certificate is withheld from CertPoll and GetCert by its own requester; ok/once Intune accepts, both return it', async () => {
    const key = rsaKey(2048, 'wait-redeliver');
    const signer = (await makeCert({ key, subject: 'CN=SCEP SIGNER' })).cert;
    const transactionId = 'WAIT-REDELIVER-0001';
    // Intune refuses the success notification three times: enrollment, CertPoll, GetCert.
    fake.script({ action: 'successNotification', transactionId, outcome: { status: 500 }, times: 3 });
    const e = await enrollIntune(host, {
      subject: 'CN=wait-redeliver',
      transactionId,
      keyName: 'wait-redeliver',
      signerCert: signer,
    });
    expect(e.rep.status).toBe(PKIStatus.FAILURE);
    expect(e.rep.certificates).toHaveLength(0);
    const [record] = await recordsOfTransaction(transactionId);
    expect(record?.notification?.state).toBe('failed');
    const issued = AsnParser.parse(Buffer.from(record!.der, 'base64'), Certificate);

    const send = async (messageType: MessageType, content: Uint8Array, tx: string): Promise<CertRep> => {
      const msg = buildPkiMessage({
        messageType,
        transactionId: tx,
        content,
        recipients: [host.ca],
        signerKey: key,
        signerCert: signer,
      });
      const res = await host.post(`${INTUNE_PATH}?operation=PKIOperation`, msg);
      expect(res.status).toBe(200);
      return readCertRep(new Uint8Array(await res.arrayBuffer()), key, signer);
    };
    const poll = () =>
      send(MessageType.CertPoll, issuerAndSubject(host.ca, 'CN=wait-redeliver'), transactionId);
    const getCert = () => send(MessageType.GetCert, issuerAndSerial(issued), 'WAIT-REDELIVER-GETCERT');

    for (const [what, ask] of [
      ['CertPoll', poll],
      ['GetCert', getCert],
    ] as const) {
      const rep = await ask();
      expect(rep.status, what).toBe(PKIStatus.FAILURE);
      expect(rep.failInfo, what).toBe(FailInfo.badRequest);
      expect(rep.certificates, what).toHaveLength(0);
    }
    expect(callsFor(fake, 'successNotification', transactionId).map((c) => c.status)).toEqual([
      500, 500, 500,
    ]);
    expect((await recordBySerial(record!.serialNumber))?.notification?.state).toBe('failed');

    // Intune is back: CertPoll sends the notification, and only then returns the certificate.
    const polled = await poll();
    expect(polled.status, polled.failInfoText).toBe(PKIStatus.SUCCESS);
    expect(polled.certificates[0]?.raw.equals(Buffer.from(record!.der, 'base64'))).toBe(true);
    expect(callsFor(fake, 'successNotification', transactionId).map((c) => c.status)).toEqual([
      500, 500, 500, 200,
    ]);
    expect((await recordBySerial(record!.serialNumber))?.notification?.state).toBe('sent');
    // GetCert now returns it without telling Intune a second time.
    const got = await getCert();
    expect(got.status, got.failInfoText).toBe(PKIStatus.SUCCESS);
    expect(got.certificates[0]?.raw.equals(Buffer.from(record!.der, 'base64'))).toBe(true);
    expect(callsFor(fake, 'successNotification', transactionId)).toHaveLength(4);
    expect(callsFor(fake, 'failureNotification', transactionId)).toHaveLength(0);
    expect(fake.violations).toEqual([]);
  });
});
