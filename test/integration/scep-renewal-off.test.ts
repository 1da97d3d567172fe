import type { KeyObject } from 'node:crypto';
import { AsnParser } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FailInfo, MessageType, PKIStatus } from '../../lib/scep/types.js';
import { startTestHost, type TestHost } from '../helpers/host.js';
import { makeCsr } from '../helpers/pki.js';
import { buildPkiMessage, type CertRep } from '../helpers/scep-client.js';
import { pkiOperation, recordsForTransaction, selfSignedClient } from '../helpers/scep-flow.js';

/**
 * AppConfig__StaticValidation__AllowRenewals=false: a certificate we issued no longer stands in
 * for the challenge; renewal (RenewalReq or PKCSReq) needs the static challenge again.
 */

const CHALLENGE = 'test-challenge-1';
let host: TestHost;
let old: { key: KeyObject; cert: Certificate };

beforeAll(async () => {
  host = await startTestHost({ AppConfig__StaticValidation__AllowRenewals: 'false' });
  const id = await selfSignedClient('renewal-off');
  const rep = await send(
    MessageType.PKCSReq,
    'renewal-off-first',
    { key: id.key, cert: id.signer.cert },
    CHALLENGE,
  );
  expect(rep.status, rep.failInfoText).toBe(PKIStatus.SUCCESS);
  old = { key: id.key, cert: AsnParser.parse(rep.certificates[0]!.raw, Certificate) };
});
afterAll(async () => {
  await host.close();
});

async function send(
  messageType: MessageType,
  transactionId: string,
  signer: { key: KeyObject; cert: Certificate },
  challenge?: string,
): Promise<CertRep> {
  const csr = await makeCsr({
    key: signer.key,
    subject: 'CN=renewal-off',
    ...(challenge === undefined ? {} : { challenge }),
  });
  const msg = buildPkiMessage({
    messageType,
    transactionId,
    content: csr,
    recipients: [host.ca],
    signerKey: signer.key,
    signerCert: signer.cert,
  });
  return pkiOperation(host, msg, signer);
}

async function expectRefused(rep: CertRep, transactionId: string, reason: RegExp): Promise<void> {
  expect(rep.status).toBe(PKIStatus.FAILURE);
  expect(rep.failInfo).toBe(FailInfo.badRequest);
  expect(rep.failInfoText).toMatch(reason);
  expect(rep.certificates).toHaveLength(0);
  expect(await recordsForTransaction(transactionId)).toHaveLength(0);
}

describe('renewal with AllowRenewals=false', () => {
  it('fail/PKCSReq signed by our earlier certificate without a challenge → challenge-missing', async () => {
    await expectRefused(
      await send(MessageType.PKCSReq, 'off-pkcs-none', old),
      'off-pkcs-none',
      /challenge-missing/,
    );
  });

  it('fail/PKCSReq signed by our earlier certificate with a wrong challenge → challenge-mismatch', async () => {
    await expectRefused(
      await send(MessageType.PKCSReq, 'off-pkcs-wrong', old, 'wrong-challenge'),
      'off-pkcs-wrong',
      /challenge-mismatch/,
    );
  });

  it('fail/RenewalReq signed by our earlier certificate without a challenge → challenge-missing', async () => {
    await expectRefused(
      await send(MessageType.RenewalReq, 'off-renew-none', old),
      'off-renew-none',
      /challenge-missing/,
    );
  });

  it('ok/PKCSReq signed by our earlier certificate with the right challenge → issued', async () => {
    const rep = await send(MessageType.PKCSReq, 'off-pkcs-right', old, CHALLENGE);
    expect(rep.status, rep.failInfoText).toBe(PKIStatus.SUCCESS);
  });

  it('ok/RenewalReq signed by our earlier certificate with the right challenge → issued', async () => {
    const rep = await send(MessageType.RenewalReq, 'off-renew-right', old, CHALLENGE);
    expect(rep.status, rep.failInfoText).toBe(PKIStatus.SUCCESS);
    expect(await recordsForTransaction('off-renew-right')).toHaveLength(1);
  });
});
