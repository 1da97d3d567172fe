import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHost, type TestHost } from '../helpers/host.js';
import { makeCert, makeCsr, rsaKey, san } from '../helpers/pki.js';
import { buildPkiMessage, readCertRep } from '../helpers/scep-client.js';
import { FailInfo, MessageType, PKIStatus } from '../../lib/scep/types.js';

let host: TestHost;
beforeAll(async () => {
  host = await startTestHost();
});
afterAll(async () => {
  await host.close();
});

async function enroll(o: {
  challenge?: string;
  cn: string;
  transactionId?: string;
  cipher?: 'AES-128-CBC' | 'DES-EDE3-CBC' | 'AES-256-CBC';
  keyName?: string;
}) {
  const key = rsaKey(2048, o.keyName ?? o.cn);
  const signer = await makeCert({ key, subject: 'CN=SCEP SIGNER' });
  const csr = await makeCsr({
    key,
    subject: `CN=${o.cn}, O=Test`,
    challenge: o.challenge ?? 'test-challenge-1',
    sans: [san.dns(`${o.cn}.example.net`)],
  });
  const msg = buildPkiMessage({
    messageType: MessageType.PKCSReq,
    transactionId: o.transactionId ?? `tx-${o.cn}`,
    content: csr,
    recipients: [host.ca],
    signerKey: key,
    signerCert: signer.cert,
    cipher: o.cipher ?? 'AES-128-CBC',
  });
  const res = await host.post('/scep/static?operation=PKIOperation', msg);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('application/x-pki-message');
  return readCertRep(new Uint8Array(await res.arrayBuffer()), key, signer.cert);
}

describe('PKCSReq on the static endpoint', () => {
  it('issues a certificate for the CSR subject and SAN, signed by the CA', async () => {
    const rep = await enroll({ cn: 'device-1' });
    expect(rep.status).toBe(PKIStatus.SUCCESS);
    expect(rep.signatureValid).toBe(true);
    const cert = rep.certificates[0]!;
    expect(cert.subject).toContain('CN=device-1');
    expect(cert.subjectAltName).toContain('DNS:device-1.example.net');
    const ca = rep.signerCertificates[0]!;
    expect(cert.checkIssued(ca)).toBe(true);
    expect(cert.verify(ca.publicKey)).toBe(true);
  });

  it('refuses a wrong challenge with a signed FAILURE badRequest that says why', async () => {
    const rep = await enroll({ cn: 'device-2', challenge: 'wrong-one' });
    expect(rep.status).toBe(PKIStatus.FAILURE);
    expect(rep.failInfo).toBe(FailInfo.badRequest);
    expect(rep.failInfoText).toMatch(/challenge-mismatch/);
    expect(rep.signatureValid).toBe(true);
    expect(rep.certificates).toHaveLength(0);
  });

  it('answers a re-sent identical request with the same certificate', async () => {
    const key = rsaKey(2048, 'resend');
    const signer = await makeCert({ key, subject: 'CN=SCEP SIGNER' });
    const csr = await makeCsr({ key, subject: 'CN=resend', challenge: 'test-challenge-1' });
    const msg = buildPkiMessage({
      messageType: MessageType.PKCSReq,
      transactionId: 'tx-resend',
      content: csr,
      recipients: [host.ca],
      signerKey: key,
      signerCert: signer.cert,
    });
    const a = await readCertRep(
      new Uint8Array(await (await host.post('/scep/static?operation=PKIOperation', msg)).arrayBuffer()),
      key,
      signer.cert,
    );
    const b = await readCertRep(
      new Uint8Array(await (await host.post('/scep/static?operation=PKIOperation', msg)).arrayBuffer()),
      key,
      signer.cert,
    );
    expect(a.status).toBe(PKIStatus.SUCCESS);
    expect(b.certificates[0]!.serialNumber).toBe(a.certificates[0]!.serialNumber);
  });

  it('refuses the same transactionID with another key', async () => {
    const first = await enroll({ cn: 'tx-owner', transactionId: 'shared-tx' });
    expect(first.status).toBe(PKIStatus.SUCCESS);
    const second = await enroll({ cn: 'tx-thief', transactionId: 'shared-tx' });
    expect(second.status).toBe(PKIStatus.FAILURE);
    expect(second.failInfoText).toMatch(/another key/);
  });
});
