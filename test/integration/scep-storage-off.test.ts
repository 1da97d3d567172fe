import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AsnParser } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { FailInfo, MessageType, PKIStatus } from '../../lib/scep/types.js';
import { startTestHost, type TestHost } from '../helpers/host.js';
import { makeCsr } from '../helpers/pki.js';
import { buildPkiMessage, issuerAndSerial } from '../helpers/scep-client.js';
import { pkiOperation, recordsForTransaction, selfSignedClient } from '../helpers/scep-flow.js';

/**
 * AppConfig__StaticValidation__EnableCertificateStorage=false: the record is kept without the
 * certificate, the first delivery works, and nothing hands the certificate out a second time.
 */
let host: TestHost;
beforeAll(async () => {
  host = await startTestHost({ AppConfig__StaticValidation__EnableCertificateStorage: 'false' });
});
afterAll(async () => {
  await host.close();
});

describe('certificate storage off', () => {
  it('delivers once, records without the DER, refuses a re-send and GetCert', async () => {
    const client = await selfSignedClient('storage-off');
    const requester = { key: client.key, cert: client.signer.cert };
    const csr = await makeCsr({ key: client.key, subject: 'CN=storage-off', challenge: 'test-challenge-1' });
    const msg = buildPkiMessage({
      messageType: MessageType.PKCSReq,
      transactionId: 'tx-storage-off',
      content: csr,
      recipients: [host.ca],
      signerKey: client.key,
      signerCert: client.signer.cert,
    });
    const first = await pkiOperation(host, msg, requester);
    expect(first.status).toBe(PKIStatus.SUCCESS);
    const issued = first.certificates[0]!;
    const records = await recordsForTransaction('tx-storage-off');
    expect(records).toHaveLength(1);
    expect(records[0]!.der).toBe('');
    expect(records[0]!.serialNumber).toBe(issued.serialNumber.toLowerCase());

    const again = await pkiOperation(host, msg, requester);
    expect(again.status).toBe(PKIStatus.FAILURE);
    expect(again.failInfoText).toMatch(/not stored/);
    expect(await recordsForTransaction('tx-storage-off')).toHaveLength(1);

    const getCert = buildPkiMessage({
      messageType: MessageType.GetCert,
      transactionId: 'tx-storage-off-getcert',
      content: issuerAndSerial(AsnParser.parse(issued.raw, Certificate)),
      recipients: [host.ca],
      signerKey: client.key,
      signerCert: client.signer.cert,
    });
    const got = await pkiOperation(host, getCert, requester);
    expect(got.status).toBe(PKIStatus.FAILURE);
    expect(got.failInfo).toBe(FailInfo.badCertId);
  });
});
