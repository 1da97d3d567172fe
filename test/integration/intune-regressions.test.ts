import 'reflect-metadata';
import { AsnParser } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessageType, PKIStatus } from '../../lib/scep/types.js';
import { startFakeIntune, type FakeIntune } from '../fakes/intune-server.js';
import type { TestHost } from '../helpers/host.js';
import {
  callsFor,
  enrollIntune,
  intuneEnv,
  recordsOfTransaction,
  startIsolatedHost,
  waitFor,
} from '../helpers/intune-flow.js';

/**
 * Regression tests for Intune defects found end to end: a refused Intune challenge overruled by
 * a certificate in hand, and success notifications sent for renewals Intune never validated.
 */

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

/** A device that already holds a certificate of this CA for `subject` (first enrollment validated). */
async function enrolledDevice(
  name: string,
): Promise<{ subject: string; keyName: string; cert: Certificate }> {
  const subject = `CN=${name}`;
  const first = await enrollIntune(host, { subject, keyName: name });
  expect(first.rep.status, first.rep.failInfoText).toBe(PKIStatus.SUCCESS);
  return { subject, keyName: name, cert: AsnParser.parse(first.rep.certificates[0]!.raw, Certificate) };
}

describe('Intune validation cannot be bypassed by signing with a current certificate', () => {
  // Issue 5 item 2: "Only HTTP 2xx with code == Success allows issuance; any other code, HTTP
  // error or timeout gives a FAILURE CertRep (badRequest) and no certificate". Spec §0: "any
  // exception from validate … MUST NOT issue".
  it.each([
    ['ScepProfileNoLongerTargetedToTheClient', 'fake:ScepProfileNoLongerTargetedToTheClient'],
    ['ChallengeExpired', 'fake:ChallengeExpired'],
    ['HTTP 500', 'fake:http-500'],
  ])('refuses a PKCSReq whose validateRequest answered %s', async (_what, challenge) => {
    const device = await enrolledDevice(`bypass-${challenge.replace(/\W/g, '')}`);
    const e = await enrollIntune(host, {
      subject: device.subject,
      keyName: device.keyName,
      signerCert: device.cert,
      challenge,
    });
    expect(callsFor(fake, 'validateRequest', e.transactionId)).toHaveLength(1);
    expect(e.rep.status).toBe(PKIStatus.FAILURE);
    expect(e.rep.certificates).toHaveLength(0);
    // Today: SUCCESS, a record with authorization "renewal", and a successNotification to Intune
    // for the very transaction it refused.
    expect(await recordsOfTransaction(e.transactionId)).toHaveLength(0);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(callsFor(fake, 'successNotification', e.transactionId)).toHaveLength(0);
  });
});

describe('Intune renewals (AllowRenewals, default true)', () => {
  // Spec §0 flow and §10: a successNotification follows a validateRequest of the same
  // transaction with the same CSR. A RenewalReq authorized by the current certificate is never
  // validated, so Intune has no transaction to attach the notification to.
  it('does not send Intune a successNotification for a transaction it never validated', async () => {
    const device = await enrolledDevice('renewal-device');
    const e = await enrollIntune(host, {
      subject: device.subject,
      keyName: device.keyName,
      signerCert: device.cert,
      messageType: MessageType.RenewalReq,
    });
    expect(e.rep.status, e.rep.failInfoText).toBe(PKIStatus.SUCCESS);
    expect(callsFor(fake, 'validateRequest', e.transactionId)).toHaveLength(0);
    // Give the queue worker time to act on whatever was queued.
    await new Promise((r) => setTimeout(r, 1_500));
    // Today: a successNotification goes out, the fake answers 400 ("never validated"), the worker
    // treats 400 as permanent: poison queue, record notification "failed", an error log.
    expect(callsFor(fake, 'successNotification', e.transactionId)).toHaveLength(0);
    expect(fake.violations).toEqual([]);
    const record = await waitFor('record', async () => (await recordsOfTransaction(e.transactionId))[0]);
    expect(record.notification?.state ?? 'none').not.toBe('failed');
  });
});
