import 'reflect-metadata';
import { createHash, X509Certificate } from 'node:crypto';
import { QueueClient } from '@azure/storage-queue';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { getApp } from '../../lib/app.js';
import { encodeNotificationMessage, successMessageFor } from '../../lib/intune/notification-message.js';
import { FailInfo, PKIStatus } from '../../lib/scep/types.js';
import type { CertificateRecord } from '../../lib/store/types.js';
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
  waitFor,
  type Enrollment,
} from '../helpers/intune-flow.js';
import { MATRIX_ROWS, serialOf } from '../helpers/intune-matrix.js';

/**
 * Intune end to end (issue 5; spec intune-scep-api.md §3, §6): a SCEP client enrolls through
 * `certsrv/mscep/mscep.dll` against the local host, which validates with the fake Intune,
 * issues, records, and notifies through Azurite and the queue trigger.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const STD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,7})?Z$/;
/** Headers the runtime's fetch adds on its own; everything else must be what spec §2 lists. */
const TRANSPORT_HEADERS = [
  'host',
  'connection',
  'content-length',
  'accept',
  'accept-language',
  'accept-encoding',
  'sec-fetch-mode',
];
const SPEC_HEADERS = [
  'authorization',
  'content-type',
  'client-request-id',
  'api-version',
  'useragent',
  'user-agent',
];
const PROVIDER = 'azure-scep-ca-e2e/1.0';

function certOf(e: Enrollment): X509Certificate {
  expect(e.rep.status, e.rep.failInfoText).toBe(PKIStatus.SUCCESS);
  expect(e.rep.certificates).toHaveLength(1);
  return e.rep.certificates[0]!;
}

async function queueCount(name: string): Promise<number> {
  const q = new QueueClient(process.env.AzureWebJobsStorage ?? '', name);
  return (await q.getProperties()).approximateMessagesCount ?? 0;
}

async function notificationState(serial: string, state: string): Promise<CertificateRecord | undefined> {
  const r = await recordBySerial(serial);
  return r?.notification?.state === state ? r : undefined;
}

describe('Intune enrollment in queued notification mode', () => {
  let fake: FakeIntune;
  let host: TestHost;
  beforeAll(async () => {
    fake = await startFakeIntune();
    host = await startIsolatedHost(
      intuneEnv(fake, {
        AppConfig__IntuneValidation__ValidityPeriodDays: '30',
        AppConfig__IntuneValidation__RequestTimeoutSeconds: '2',
      }),
    );
  });
  afterAll(async () => {
    await host.close();
    await fake.close();
  });
  afterEach(() => {
    expect(fake.violations).toEqual([]);
  });

  it('answers GetCACaps at certsrv/mscep/mscep.dll', async () => {
    const res = await fetch(`${host.baseUrl}${INTUNE_PATH}?operation=GetCACaps`);
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/POSTPKIOperation/);
  });

  it.each([
    ['POST', INTUNE_PATH],
    ['POST', `${INTUNE_PATH}/pkiclient.exe`],
    ['GET', `${INTUNE_PATH}/pkiclient.exe`],
    ['POST', '/scep/intune'],
  ])(
    'issues through %s %s after validateRequest and notifies Intune through the queue',
    async (method, path) => {
      const e = await enrollIntune(host, { path, get: method === 'GET', subject: 'CN=WIN-DEVICE-1' });
      const cert = certOf(e);
      expect(e.rep.signatureValid).toBe(true);

      const [validate, ...more] = callsFor(fake, 'validateRequest', e.transactionId);
      expect(more).toHaveLength(0);
      expect(validate!.status).toBe(200);
      expect(validate!.body).toEqual({
        request: { transactionId: e.transactionId, certificateRequest: e.csrBase64, callerInfo: PROVIDER },
      });
      expect(e.csrBase64).toMatch(STD_BASE64);
      const h = validate!.headers;
      expect(h.authorization).toMatch(/^Bearer \S+$/);
      expect(h['content-type']).toMatch(/^application\/json(; charset=utf-8)?$/);
      expect(h['api-version']).toBe('2018-02-20');
      expect(h['client-request-id']).toMatch(UUID);
      expect(h['client-request-id']).not.toBe(e.transactionId);
      expect(h.useragent).toBe(PROVIDER);
      expect(
        Object.keys(h)
          .filter((k) => !TRANSPORT_HEADERS.includes(k))
          .sort(),
      ).toEqual([...SPEC_HEADERS].sort());

      const success = await waitFor(
        'successNotification',
        () => callsFor(fake, 'successNotification', e.transactionId)[0],
      );
      expect(success.status).toBe(200);
      const n = success.fields;
      expect(n.transactionId).toBe(e.transactionId);
      expect(n.certificateRequest).toBe(e.csrBase64);
      expect(n.certificateThumbprint).toBe(createHash('sha1').update(cert.raw).digest('hex').toUpperCase());
      expect(n.certificateThumbprint).toMatch(/^[0-9A-F]{40}$/);
      expect(String(n.certificateSerialNumber).toLowerCase()).toBe(serialOf(cert));
      expect(n.certificateExpirationDateUtc).toMatch(ISO_UTC);
      expect(n.certificateExpirationDateUtc).toBe(new Date(cert.validTo).toISOString());
      expect(n.issuingCertificateAuthority).toMatch(/CN=/);
      expect(cert.checkIssued(new X509Certificate(host.caCertificatePem))).toBe(true);
      expect(success.headers['client-request-id']).not.toBe(h['client-request-id']);

      const record = await waitFor('record sent', () => notificationState(serialOf(cert), 'sent'));
      expect(record.transactionId).toBe(e.transactionId);
      expect(record.issuer).toBe(n.issuingCertificateAuthority);
      expect(record.notification?.attempts).toBe(1);
      expect(callsFor(fake, 'failureNotification', e.transactionId)).toHaveLength(0);
    },
  );

  // Test matrix rows 1–20 (spec §6) a SCEP client can send; row 18 has no definition.
  it.each(MATRIX_ROWS)(
    'test matrix row $row: the certificate matches the CSR and profile',
    async ({ csr, check }) => {
      const startedAt = Date.now();
      const e = await enrollIntune(host, csr);
      const cert = certOf(e);
      check(cert, startedAt);
      const validate = callsFor(fake, 'validateRequest', e.transactionId);
      expect(validate.map((c) => c.fields.certificateRequest)).toEqual([e.csrBase64]);
      const record = await recordBySerial(serialOf(cert));
      expect(record?.notification?.certificateRequest).toBe(e.csrBase64);
    },
  );

  it('test matrix row 14: a 1024-bit key is refused by the CA policy before Intune is asked', async () => {
    const e = await enrollIntune(host, { subject: 'CN=rsa-1024', bits: 1024, keyName: 'small' });
    expect(e.rep.status).toBe(PKIStatus.FAILURE);
    expect(e.rep.failInfo).toBe(FailInfo.badRequest);
    expect(e.rep.failInfoText).toMatch(/at least 2048 bits \(got 1024\)/);
    expect(fake.calls.filter((c) => c.fields.transactionId === e.transactionId)).toHaveLength(0);
    expect(await recordsOfTransaction(e.transactionId)).toHaveLength(0);
  });

  it.each([
    ['22 non-Success code', 'fake:ChallengeExpired', /intune:ChallengeExpired/],
    ['22 non-Success code', 'fake:SubjectNameMismatch', /intune:SubjectNameMismatch/],
    ['23 HTTP 500 with a JSON body', 'fake:http-500', /intune:http-500/],
    ['23 HTTP 500 with an HTML body', 'fake:http-500-text', /intune:http-500/],
    ['role missing (HTTP 401)', 'fake:http-401', /intune:http-401/],
  ])(
    'test matrix row %s → FAILURE badRequest, no certificate, no record',
    async (_row, challenge, reason) => {
      const e = await enrollIntune(host, { subject: 'CN=refused', challenge });
      expect(e.rep.status).toBe(PKIStatus.FAILURE);
      expect(e.rep.failInfo).toBe(FailInfo.badRequest);
      expect(e.rep.failInfoText).toMatch(reason);
      expect(e.rep.certificates).toHaveLength(0);
      expect(callsFor(fake, 'validateRequest', e.transactionId)).toHaveLength(1);
      expect(await recordsOfTransaction(e.transactionId)).toHaveLength(0);
      // Spec §7: never a failureNotification for a failed validateRequest.
      expect(
        fake.calls.filter(
          (c) => c.action !== 'validateRequest' && c.fields.transactionId === e.transactionId,
        ),
      ).toEqual([]);
    },
  );

  it('refuses a CSR without a challengePassword without calling Intune', async () => {
    const e = await enrollIntune(host, { subject: 'CN=no-challenge', challenge: '' });
    expect(e.rep.status).toBe(PKIStatus.FAILURE);
    expect(e.rep.failInfoText).toMatch(/intune:challenge-missing/);
    expect(callsFor(fake, 'validateRequest', e.transactionId)).toHaveLength(0);
  });

  it('does not announce a failure when the record write fails (it may have landed): the retry delivers and only success is announced', async () => {
    const app = await getApp();
    const store = app.store;
    const realCreate = store.create.bind(store);
    // The write lands, its acknowledgement is lost.
    const create = vi.spyOn(store, 'create').mockImplementationOnce(async (record) => {
      await realCreate(record);
      throw new Error('store acknowledgement lost');
    });
    try {
      const e = await enrollIntune(host, { subject: 'CN=store-ack-lost' });
      expect(e.rep.status).toBe(PKIStatus.FAILURE);
      expect(e.rep.certificates).toHaveLength(0);
      const retry = await e.resend();
      expect(retry.status, retry.failInfoText).toBe(PKIStatus.SUCCESS);
      await waitFor('successNotification', () => callsFor(fake, 'successNotification', e.transactionId)[0]);
      expect(callsFor(fake, 'failureNotification', e.transactionId)).toHaveLength(0);
    } finally {
      create.mockRestore();
    }
  });

  it('refuses when validateRequest does not answer within RequestTimeoutSeconds', async () => {
    const started = Date.now();
    const e = await enrollIntune(host, { subject: 'CN=hang', challenge: 'fake:hang' });
    const elapsed = Date.now() - started;
    expect(e.rep.status).toBe(PKIStatus.FAILURE);
    expect(e.rep.failInfoText).toMatch(/intune:timeout/);
    expect(elapsed).toBeGreaterThanOrEqual(1_900);
    expect(elapsed).toBeLessThan(10_000);
    expect(await recordsOfTransaction(e.transactionId)).toHaveLength(0);
  });

  it('keeps the discovered Intune service after an HTTP 500 (not stale), and keeps its tokens cached', async () => {
    certOf(await enrollIntune(host, { subject: 'CN=rediscover' })); // the service is known now
    const before = fake.discoveryRequests.length;
    const refused = await enrollIntune(host, { subject: 'CN=rediscover', challenge: 'fake:http-500' });
    expect(refused.rep.status).toBe(PKIStatus.FAILURE);
    certOf(await enrollIntune(host, { subject: 'CN=rediscover' }));
    expect(fake.discoveryRequests.length).toBe(before);
    // One Graph and one Intune token for the whole run, plus one after the HTTP 401 test.
    const scopes = fake.tokenRequests.map((t) => t.scope);
    expect(scopes.filter((x) => x === `${fake.graphBase}.default`)).toHaveLength(1);
    expect(scopes.filter((x) => x === 'https://api.manage.microsoft.com//.default')).toHaveLength(2);
  });

  it('answers a re-sent identical PKCSReq with the same certificate without asking Intune again', async () => {
    const e = await enrollIntune(host, { subject: 'CN=resend-device' });
    const first = certOf(e);
    await waitFor('first notification sent', () => notificationState(serialOf(first), 'sent'));
    const again = await e.resend();
    expect(again.status).toBe(PKIStatus.SUCCESS);
    expect(again.certificates[0]!.raw.equals(first.raw)).toBe(true);
    expect(callsFor(fake, 'validateRequest', e.transactionId)).toHaveLength(1);
    expect(await recordsOfTransaction(e.transactionId)).toHaveLength(1);
    // A replay queues nothing: after one more poll cycle Intune still has exactly one notification.
    await new Promise((r) => setTimeout(r, 1_200));
    expect(callsFor(fake, 'successNotification', e.transactionId)).toHaveLength(1);
  });
});

describe('Intune with WaitForSuccessNotificationResponse (test matrix row 24)', () => {
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
  afterEach(() => {
    expect(fake.violations).toEqual([]);
  });

  it('withholds the certificate when successNotification answers HTTP 500', async () => {
    const transactionId = 'ROW24-FAIL-0001';
    fake.script({ action: 'successNotification', transactionId, outcome: { status: 500 }, times: 1 });
    const e = await enrollIntune(host, { subject: 'CN=row24', transactionId, keyName: 'row24' });
    expect(e.rep.status).toBe(PKIStatus.FAILURE);
    expect(e.rep.failInfo).toBe(FailInfo.badRequest);
    expect(e.rep.certificates).toHaveLength(0);
    expect(callsFor(fake, 'successNotification', transactionId).map((c) => c.status)).toEqual([500]);
    expect(callsFor(fake, 'failureNotification', transactionId)).toHaveLength(0);
    const [record, ...others] = await recordsOfTransaction(transactionId);
    expect(others).toHaveLength(0);
    expect(record?.notification?.state).toBe('failed');
    expect(record?.notification?.lastError).toMatch(/withheld.*intune:http-500/);
    expect(await queueCount('intune-notifications')).toBe(0);

    // The re-drive timer never announces a certificate the device did not get.
    const app = await getApp();
    const stale = new Date(Date.now() - 2 * 3600_000).toISOString();
    await app.store.update(record!, { notification: { ...record!.notification!, updatedAt: stale } });
    await host.invoke('intuneRedrive', [{ isPastDue: false }]);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(callsFor(fake, 'successNotification', transactionId)).toHaveLength(1);

    // The device retries the same request once Intune is back: now it gets the certificate.
    const retry = await e.resend();
    expect(retry.status, retry.failInfoText).toBe(PKIStatus.SUCCESS);
    expect(serialOf(retry.certificates[0]!)).toBe(record?.serialNumber);
    expect(callsFor(fake, 'validateRequest', transactionId)).toHaveLength(1);
    expect((await recordBySerial(record!.serialNumber))?.notification?.state).toBe('sent');
  });

  it('delivers once successNotification succeeded, with no queued duplicate', async () => {
    const e = await enrollIntune(host, { subject: 'CN=row24-ok' });
    const cert = certOf(e);
    expect(callsFor(fake, 'successNotification', e.transactionId).map((c) => c.status)).toEqual([200]);
    const record = await recordBySerial(serialOf(cert));
    expect(record?.notification?.state).toBe('sent');
    expect(await queueCount('intune-notifications')).toBe(0);
    await new Promise((r) => setTimeout(r, 1_200));
    expect(callsFor(fake, 'successNotification', e.transactionId)).toHaveLength(1);
  });
});

describe('Intune notifications are never lost', () => {
  let fake: FakeIntune;
  let host: TestHost;
  beforeAll(async () => {
    fake = await startFakeIntune();
    host = await startIsolatedHost(intuneEnv(fake));
  });
  afterAll(async () => {
    await host.close();
    await fake.close();
  });
  afterEach(() => {
    expect(fake.violations).toEqual([]);
  });

  async function failedOnce(subject: string, outcome: { status: number } | { code: string }) {
    const transactionId = `NL-${subject}`;
    fake.script({ action: 'successNotification', transactionId, outcome, times: 1 });
    const e = await enrollIntune(host, { subject: `CN=${subject}`, transactionId });
    const cert = certOf(e); // queued mode: the device has its certificate already
    const record = await waitFor('first attempt recorded', async () => {
      const r = await recordBySerial(serialOf(cert));
      return r?.notification?.attempts === 1 ? r : undefined;
    });
    return { e, cert, record };
  }

  it('re-enqueues a notification that failed with HTTP 500 and sends it on the next delivery', async () => {
    const { e, cert, record } = await failedOnce('retry-500', { status: 500 });
    expect(record.notification?.state).toBe('pending');
    expect(record.notification?.lastError).toMatch(/intune:http-500/);
    // The retry is in the queue, invisible until its back-off delay has passed.
    await waitFor('retry enqueued', async () =>
      (await queueCount('intune-notifications')) > 0 ? true : undefined,
    );
    const peeked = await new QueueClient(
      process.env.AzureWebJobsStorage ?? '',
      'intune-notifications',
    ).peekMessages();
    expect(peeked.peekedMessageItems).toHaveLength(0);

    // The host delivers it again (second dequeue), Intune has recovered.
    const message: unknown = JSON.parse(encodeNotificationMessage(successMessageFor(record, 1)!));
    await host.invoke('intuneNotifications', [message], { dequeueCount: 2 });
    const sent = await recordBySerial(serialOf(cert));
    expect(sent?.notification?.state).toBe('sent');
    expect(sent?.notification?.attempts).toBe(2);
    const calls = callsFor(fake, 'successNotification', e.transactionId);
    expect(calls.map((c) => c.status)).toEqual([500, 200]);
    expect(calls[1]!.fields).toEqual(calls[0]!.fields);
  });

  it('re-drives a record left pending when the queue could not be written', async () => {
    const app = await getApp();
    const send = vi.spyOn(app.intune!.queue, 'send').mockRejectedValueOnce(new Error('queue down'));
    const e = await enrollIntune(host, { subject: 'CN=queue-down', transactionId: 'NL-queue-down' });
    send.mockRestore();
    const cert = certOf(e); // the device gets its certificate; the notification waits
    const record = (await recordBySerial(serialOf(cert)))!;
    expect(record.notification).toMatchObject({ state: 'pending', attempts: 0 });

    // Not stale yet: the timer leaves it alone.
    await host.invoke('intuneRedrive', [{ isPastDue: false }]);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(callsFor(fake, 'successNotification', e.transactionId)).toHaveLength(0);

    // An hour later (RedriveAfterMinutes, default 60) the timer enqueues it and the worker sends it.
    const stale = new Date(Date.now() - 2 * 3600_000).toISOString();
    const current = (await recordBySerial(serialOf(cert)))!;
    expect(
      await app.store.update(current, { notification: { ...current.notification!, updatedAt: stale } }),
    ).toBeDefined();
    await host.invoke('intuneRedrive', [{ isPastDue: false }]);
    await waitFor('re-driven notification sent', () => notificationState(serialOf(cert), 'sent'));
    expect(callsFor(fake, 'successNotification', e.transactionId).map((c) => c.status)).toEqual([200]);
  });

  it('moves a notification Intune refuses with a business code to the poison queue and marks it failed', async () => {
    const { record } = await failedOnce('refused', { code: 'ChallengeExpired' });
    expect(record.notification?.state).toBe('failed');
    expect(record.notification?.lastError).toMatch(/intune:ChallengeExpired/);
    const poison = new QueueClient(process.env.AzureWebJobsStorage ?? '', 'intune-notifications-poison');
    const peeked = await waitFor('poison message', async () => {
      const p = await poison.peekMessages({ numberOfMessages: 32 });
      return p.peekedMessageItems.length > 0 ? p.peekedMessageItems : undefined;
    });
    const texts = peeked.map((m) => Buffer.from(m.messageText, 'base64').toString('utf8'));
    expect(texts.some((t) => t.includes(record.serialNumber))).toBe(true);
  });
});

describe('Intune unreachable (test matrix row 25 and discovery faults)', () => {
  let fake: FakeIntune;
  let host: TestHost;
  beforeAll(async () => {
    fake = await startFakeIntune();
    host = await startIsolatedHost(intuneEnv(fake));
  });
  afterAll(async () => {
    await host.close();
    await fake.close();
  });

  it('refuses while the token endpoint rejects the app credential, then recovers', async () => {
    fake.tokenFault = { status: 401, error: 'invalid_client', aadsts: 7000215 };
    const e = await enrollIntune(host, { subject: 'CN=bad-key' });
    expect(e.rep.status).toBe(PKIStatus.FAILURE);
    expect(e.rep.failInfoText).toMatch(/intune:token/);
    expect(fake.calls).toHaveLength(0);
    expect(await recordsOfTransaction(e.transactionId)).toHaveLength(0);

    fake.tokenFault = undefined;
    fake.discoveryMode = 'missing-service';
    const missing = await enrollIntune(host, { subject: 'CN=no-service' });
    expect(missing.rep.status).toBe(PKIStatus.FAILURE);
    expect(missing.rep.failInfoText).toMatch(/intune:service-not-found/);
    expect(fake.calls).toHaveLength(0);

    fake.discoveryMode = 'ok';
    certOf(await enrollIntune(host, { subject: 'CN=recovered' }));
    expect(fake.violations).toEqual([]);
  });
});

describe('Intune disabled (the default)', () => {
  let host: TestHost;
  beforeAll(async () => {
    host = await startIsolatedHost({ AppConfig__IntuneValidation__Enabled: 'false' });
  });
  afterAll(async () => {
    await host.close();
  });

  it('/scep/intune?operation=GetCACaps is 404 UNKNOWN_ENDPOINT', async () => {
    const res = await fetch(`${host.baseUrl}/scep/intune?operation=GetCACaps`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: 'UNKNOWN_ENDPOINT' });
  });

  // As SCEPman: the NDES path still hands out the CA (its scripts download the root there).
  it(`${INTUNE_PATH} answers GetCACaps and GetCACert; PKIOperation is 404 UNKNOWN_ENDPOINT`, async () => {
    expect((await fetch(`${host.baseUrl}${INTUNE_PATH}?operation=GetCACaps`)).status).toBe(200);
    const ca = await fetch(`${host.baseUrl}${INTUNE_PATH}/pkiclient.exe?operation=GetCACert`);
    expect(ca.status).toBe(200);
    expect(ca.headers.get('content-type')).toBe('application/x-x509-ca-cert');
    const pki = await fetch(`${host.baseUrl}${INTUNE_PATH}?operation=PKIOperation`, {
      method: 'POST',
      body: new Uint8Array([0x30, 0x00]),
    });
    expect(pki.status).toBe(404);
    expect(await pki.json()).toMatchObject({ error: 'UNKNOWN_ENDPOINT' });
  });
});
