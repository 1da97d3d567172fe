import { randomBytes } from 'node:crypto';
import { AsnParser } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { parsePkiMessage } from '../../lib/scep/message.js';
import { FailInfo, MessageType, PKIStatus } from '../../lib/scep/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { berPkiMessage } from '../helpers/ber.js';
import { startTestHost, type TestHost } from '../helpers/host.js';
import { ecKey, makeCert, makeCsr, rsaKey, san, type ChallengeEncoding } from '../helpers/pki.js';
import {
  buildPkiMessage,
  issuerAndSerial,
  readCertRep,
  type PkiMessageOptions,
} from '../helpers/scep-client.js';
import {
  issuerAndSubject,
  pkiOperation,
  postPkiOperation,
  recordsForTransaction,
  selfSignedClient,
  type ScepClientIdentity,
} from '../helpers/scep-flow.js';

/**
 * PKIOperation against the local host with the variations real clients show (issue 2 §5):
 * several recipients, Windows-style signers, challenge encodings, transactionID forms,
 * ciphers, digests, key transport; CertPoll, GetCert, GetCRL; and refusals that carry no
 * certificate.
 */

const CHALLENGE = 'test-challenge-1';
let host: TestHost;
let client: ScepClientIdentity;

beforeAll(async () => {
  host = await startTestHost();
  client = await selfSignedClient('messages');
});
afterAll(async () => {
  await host.close();
});

interface EnrollOptions extends Partial<PkiMessageOptions> {
  cn?: string;
  challenge?: string | undefined;
  challengeEncoding?: ChallengeEncoding;
  csr?: Uint8Array;
  id?: ScepClientIdentity;
}

let counter = 0;

/** Build and send a PKCSReq; the reply is read with the signer's key and certificate. */
async function send(o: EnrollOptions = {}) {
  const id = o.id ?? client;
  const transactionId = o.transactionId ?? `msg-${++counter}`;
  const csr =
    o.csr ??
    (await makeCsr({
      key: id.key,
      subject: `CN=${o.cn ?? transactionId.replace(/[^A-Za-z0-9-]/g, '')}`,
      ...('challenge' in o
        ? o.challenge === undefined
          ? {}
          : { challenge: o.challenge }
        : { challenge: CHALLENGE }),
      ...(o.challengeEncoding ? { challengeEncoding: o.challengeEncoding } : {}),
    }));
  const senderNonce = o.senderNonce ?? new Uint8Array(randomBytes(16));
  const msg = buildPkiMessage({
    messageType: MessageType.PKCSReq,
    content: csr,
    recipients: [host.ca],
    signerKey: id.key,
    signerCert: id.signer.cert,
    ...o,
    transactionId,
    senderNonce,
  });
  const raw = await postPkiOperation(host, msg);
  const rep = await readCertRep(raw, id.key, id.signer.cert);
  return { rep, raw, transactionId, senderNonce, msg };
}

async function expectSuccess(o: EnrollOptions = {}) {
  const r = await send(o);
  expect(r.rep.status, r.rep.failInfoText).toBe(PKIStatus.SUCCESS);
  expect(r.rep.signatureValid).toBe(true);
  expect(r.rep.certificates).toHaveLength(1);
  return r;
}

async function expectFailure(o: EnrollOptions, failInfo: FailInfo, text: RegExp) {
  const r = await send(o);
  expect(r.rep.status).toBe(PKIStatus.FAILURE);
  expect(r.rep.failInfo).toBe(failInfo);
  expect(r.rep.failInfoText).toMatch(text);
  expect(r.rep.signatureValid).toBe(true);
  expect(r.rep.certificates).toHaveLength(0);
  expect(parsePkiMessage(r.raw).envelope).toHaveLength(0);
  return r;
}

describe('CertRep envelope fields', () => {
  it('ok/transactionID echoed, recipientNonce = our senderNonce, a fresh senderNonce, signed by the CA with rsaEncryption', async () => {
    const { rep, transactionId, senderNonce } = await expectSuccess();
    expect(rep.transactionId).toBe(transactionId);
    expect(Buffer.from(rep.recipientNonce).equals(Buffer.from(senderNonce))).toBe(true);
    expect(Buffer.from(rep.senderNonce).equals(Buffer.from(senderNonce))).toBe(false);
    expect(rep.signerSignatureOid).toBe('1.2.840.113549.1.1.1');
    expect(rep.signerCertificates.map((c) => c.raw.toString('base64'))).toEqual([
      host.caCertificatePem.replace(/-----[^-]+-----|\s/g, ''),
    ]);
    expect(rep.certificates[0]?.issuer).toBe(rep.signerCertificates[0]?.subject);
    expect(rep.certificates[0]?.verify(rep.signerCertificates[0]!.publicKey)).toBe(true);
  });
});

describe('what real clients send', () => {
  it('ok/several KeyTransRecipientInfos (a foreign certificate first, then the CA): ours is picked', async () => {
    const foreign = await makeCert({ key: rsaKey(2048, 'foreign-ra'), subject: 'CN=Someone else RA' });
    await expectSuccess({ recipients: [foreign.cert, host.ca] });
    await expectSuccess({ recipients: [host.ca, foreign.cert] });
  });

  it('fail/encrypted only to a foreign certificate: FAILURE, no certificate', async () => {
    const a = await makeCert({ key: rsaKey(2048, 'foreign-ra'), subject: 'CN=Someone else RA' });
    const b = await makeCert({ key: rsaKey(2048, 'foreign-ra'), subject: 'CN=Someone else CA' });
    await expectFailure(
      { recipients: [a.cert, b.cert] },
      FailInfo.badMessageCheck,
      /not encrypted to this server/,
    );
  });

  it('fail/bad key-transport padding, content that does not decrypt and a garbage CSR all get one identical FAILURE, again on a re-send (no padding oracle)', async () => {
    // One recipient that is not us: our key unwraps a key encrypted to another key (bad padding).
    const foreign = await makeCert({ key: rsaKey(2048, 'foreign-ra'), subject: 'CN=Someone else RA' });
    const badPadding = await send({ recipients: [foreign.cert] });
    const again = await readCertRep(
      await postPkiOperation(host, badPadding.msg),
      client.key,
      client.signer.cert,
    );
    const garbage = await send({ csr: new Uint8Array(randomBytes(300)) });
    const notACsr = await send({ csr: new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]) });
    const answers = [badPadding.rep, again, garbage.rep, notACsr.rep].map((r) => ({
      status: r.status,
      failInfo: r.failInfo,
      failInfoText: r.failInfoText,
      certificates: r.certificates.length,
    }));
    expect(answers[0]).toEqual({
      status: PKIStatus.FAILURE,
      failInfo: FailInfo.badMessageCheck,
      failInfoText: 'the pkcsPKIEnvelope content cannot be decrypted or read',
      certificates: 0,
    });
    for (const a of answers) expect(a).toEqual(answers[0]);
  });

  it('ok/a BER pkiMessage (indefinite lengths, constructed eContent, as jscep/certmonger/sscep send) → SUCCESS', async () => {
    const transactionId = 'ber-request';
    const csr = await makeCsr({ key: client.key, subject: 'CN=ber', challenge: CHALLENGE });
    const der = buildPkiMessage({
      messageType: MessageType.PKCSReq,
      transactionId,
      content: csr,
      recipients: [host.ca],
      signerKey: client.key,
      signerCert: client.signer.cert,
    });
    const rep = await pkiOperation(host, berPkiMessage(der, 64), {
      key: client.key,
      cert: client.signer.cert,
    });
    expect(rep.status, rep.failInfoText).toBe(PKIStatus.SUCCESS);
    expect(rep.transactionId).toBe(transactionId);
  });

  it('ok/a Windows-style signer with a critical AuthorityKeyIdentifier', async () => {
    const id = await selfSignedClient('messages', { criticalAki: true, subject: 'CN=WINDOWS-PC-01' });
    expect(id.signer.x509.toString()).toBeTruthy();
    await expectSuccess({ id });
  });

  it('ok/the signer subject differs from the CSR subject: the certificate has the CSR subject', async () => {
    const id = await selfSignedClient('messages', { subject: 'CN=SCEP SIGNER, O=Somewhere Else' });
    const { rep } = await expectSuccess({ id, cn: 'csr-subject-wins' });
    expect(rep.certificates[0]?.subject).toBe('CN=csr-subject-wins');
  });

  it.each(['printable', 'utf8', 'bmp'] as const)('ok/challengePassword as %s', async (enc) => {
    await expectSuccess({ challengeEncoding: enc });
  });

  it.each([
    ['base64 (micromdm)', Buffer.from(randomBytes(20)).toString('base64')],
    ['40 hex digits (strongSwan)', randomBytes(20).toString('hex').toUpperCase()],
    ['decimal', BigInt(`0x${randomBytes(12).toString('hex')}`).toString(10)],
    ['a GUID', 'a6c2a0f4-1c50-4a3b-bf0e-2f8d4b9d2f11'],
  ])('ok/transactionID as %s is echoed verbatim', async (_name, transactionId) => {
    const { rep } = await expectSuccess({ transactionId });
    expect(rep.transactionId).toBe(transactionId);
    expect(await recordsForTransaction(transactionId)).toHaveLength(1);
  });

  it.each([
    ['AES-128-CBC', 'AES-128-CBC'],
    ['AES-192-CBC', 'AES-192-CBC'],
    ['AES-256-CBC', 'AES-256-CBC'],
    ['DES-EDE3-CBC', 'DES-EDE3-CBC'],
    ['DES-CBC', 'DES-EDE3-CBC'],
  ] as const)('ok/a request encrypted with %s gets a reply encrypted with %s', async (cipher, reply) => {
    const { rep } = await expectSuccess({ cipher });
    expect(rep.cipher).toBe(reply);
  });

  it.each([
    ['SHA-1', 'SHA-256'],
    ['SHA-256', 'SHA-256'],
    ['SHA-384', 'SHA-384'],
    ['SHA-512', 'SHA-512'],
  ] as const)('ok/a request digested with %s → reply signed with %s', async (digest, replyDigest) => {
    const { raw } = await expectSuccess({ digest });
    expect(parsePkiMessage(raw).digestAlgorithm).toBe(replyDigest);
  });

  it('ok/a signature algorithm of rsaEncryption (strongSwan style)', async () => {
    await expectSuccess({ signatureOid: 'rsaEncryption', digest: 'SHA-256' });
  });

  it('ok/RSA-OAEP key transport', async () => {
    await expectSuccess({ keyTransport: 'RSA-OAEP' });
  });

  it('ok/an EC P-256 key in the CSR (RSA request signer) is certified', async () => {
    const key = ecKey('P-256');
    const csr = await makeCsr({ key, subject: 'CN=ec-device', challenge: CHALLENGE });
    const { rep } = await expectSuccess({ csr });
    expect(rep.certificates[0]?.publicKey.asymmetricKeyType).toBe('ec');
  });

  it('ok/SANs from the CSR, including the Intune sid URI and a UPN', async () => {
    const sid = 'tag:microsoft.com,2022-09-14:sid:S-1-5-21-1-2-3-1001';
    const csr = await makeCsr({
      key: client.key,
      subject: 'CN=sans',
      challenge: CHALLENGE,
      sans: [san.dns('sans.example'), san.uri(sid), san.upn('dave@contoso.com')],
    });
    const { rep } = await expectSuccess({ csr });
    const alt = rep.certificates[0]?.subjectAltName ?? '';
    expect(alt).toContain('DNS:sans.example');
    expect(alt).toContain('S-1-5-21-1-2-3-1001');
    expect(alt).toContain('othername:UPN:dave@contoso.com');
  });
});

describe('CertPoll, GetCert, GetCRL and unknown messageTypes', () => {
  async function other(messageType: number, content: Uint8Array, transactionId: string, id = client) {
    const msg = buildPkiMessage({
      messageType,
      transactionId,
      content,
      recipients: [host.ca],
      signerKey: id.key,
      signerCert: id.signer.cert,
    });
    return pkiOperation(host, msg, { key: id.key, cert: id.signer.cert });
  }

  it('ok/CertPoll for an issued transaction → SUCCESS with the same certificate', async () => {
    const { rep, transactionId } = await expectSuccess({ cn: 'polled' });
    const poll = await other(MessageType.CertPoll, issuerAndSubject(host.ca, 'CN=polled'), transactionId);
    expect(poll.status).toBe(PKIStatus.SUCCESS);
    expect(poll.transactionId).toBe(transactionId);
    expect(poll.certificates[0]?.raw.equals(rep.certificates[0]!.raw)).toBe(true);
    expect(await recordsForTransaction(transactionId)).toHaveLength(1);
  });

  it('fail/CertPoll for an unknown transaction → FAILURE badCertId', async () => {
    const poll = await other(MessageType.CertPoll, issuerAndSubject(host.ca, 'CN=never'), 'never-issued-tx');
    expect(poll.status).toBe(PKIStatus.FAILURE);
    expect(poll.failInfo).toBe(FailInfo.badCertId);
  });

  it('fail/CertPoll for a transaction that was refused → FAILURE badCertId', async () => {
    const { transactionId } = await expectFailure(
      { challenge: 'wrong' },
      FailInfo.badRequest,
      /challenge-mismatch/,
    );
    const poll = await other(MessageType.CertPoll, issuerAndSubject(host.ca, 'CN=x'), transactionId);
    expect(poll.failInfo).toBe(FailInfo.badCertId);
  });

  it('ok/GetCert by IssuerAndSerialNumber → SUCCESS with that certificate', async () => {
    const { rep } = await expectSuccess({ cn: 'fetched' });
    const issued = rep.certificates[0]!;
    const parsed = AsnParser.parse(issued.raw, Certificate);
    const got = await other(MessageType.GetCert, issuerAndSerial(parsed), 'getcert-1');
    expect(got.status).toBe(PKIStatus.SUCCESS);
    expect(got.certificates[0]?.raw.equals(issued.raw)).toBe(true);
  });

  it('fail/CertPoll by someone else who knows the transactionID → FAILURE badRequest, no certificate', async () => {
    const { transactionId } = await expectSuccess({ cn: 'poll-victim' });
    const stranger = await selfSignedClient('messages-stranger');
    const poll = await other(
      MessageType.CertPoll,
      issuerAndSubject(host.ca, 'CN=poll-victim'),
      transactionId,
      stranger,
    );
    expect(poll.status).toBe(PKIStatus.FAILURE);
    expect(poll.failInfo).toBe(FailInfo.badRequest);
    expect(poll.certificates).toHaveLength(0);
  });

  it('fail/GetCert by someone else who knows the serial → FAILURE badRequest, no certificate', async () => {
    const { rep } = await expectSuccess({ cn: 'getcert-victim' });
    const parsed = AsnParser.parse(rep.certificates[0]!.raw, Certificate);
    const stranger = await selfSignedClient('messages-stranger');
    const got = await other(MessageType.GetCert, issuerAndSerial(parsed), 'getcert-stranger', stranger);
    expect(got.status).toBe(PKIStatus.FAILURE);
    expect(got.failInfo).toBe(FailInfo.badRequest);
    expect(got.certificates).toHaveLength(0);
  });

  it('fail/GetCert for an unknown serial → FAILURE badCertId', async () => {
    const stranger = await makeCert({ key: client.key, subject: 'CN=not ours' });
    const got = await other(MessageType.GetCert, issuerAndSerial(stranger.cert), 'getcert-unknown');
    expect(got.status).toBe(PKIStatus.FAILURE);
    expect(got.failInfo).toBe(FailInfo.badCertId);
  });

  it('fail/GetCert naming our serial with another issuer → FAILURE badCertId, no certificate', async () => {
    const { rep } = await expectSuccess({ cn: 'getcert-issuer' });
    const parsed = AsnParser.parse(rep.certificates[0]!.raw, Certificate);
    const foreign = await makeCert({ key: client.key, subject: 'CN=Another CA' });
    parsed.tbsCertificate.issuer = foreign.cert.tbsCertificate.subject;
    const got = await other(MessageType.GetCert, issuerAndSerial(parsed), 'getcert-other-issuer');
    expect(got.status).toBe(PKIStatus.FAILURE);
    expect(got.failInfo).toBe(FailInfo.badCertId);
    expect(got.certificates).toHaveLength(0);
  });

  it('fail/GetCert for a revoked certificate → FAILURE badCertId, like CertPoll', async () => {
    const { rep } = await expectSuccess({ cn: 'getcert-revoked' });
    const parsed = AsnParser.parse(rep.certificates[0]!.raw, Certificate);
    const serial = Buffer.from(parsed.tbsCertificate.serialNumber).toString('hex');
    const revoked = await fetch(`${host.baseUrl}/api/manage/certificates/${serial}/revoke`, {
      method: 'POST',
      headers: { authorization: `Bearer ${host.adminKey ?? ''}`, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'keyCompromise' }),
    });
    expect(revoked.status).toBe(200);
    const got = await other(MessageType.GetCert, issuerAndSerial(parsed), 'getcert-revoked');
    expect(got.status).toBe(PKIStatus.FAILURE);
    expect(got.failInfo).toBe(FailInfo.badCertId);
    expect(got.certificates).toHaveLength(0);
  });

  it('fail/GetCRL → signed FAILURE (no CRLs over SCEP yet)', async () => {
    const crl = await other(MessageType.GetCRL, issuerAndSerial(host.ca), 'getcrl-1');
    expect(crl.status).toBe(PKIStatus.FAILURE);
    expect(crl.failInfo).toBe(FailInfo.badRequest);
    expect(crl.failInfoText).toMatch(/CRL/);
    expect(crl.signatureValid).toBe(true);
  });

  it.each([3, 18, 99])('fail/messageType %i → signed FAILURE badRequest', async (type) => {
    const rep = await other(type, new Uint8Array(32), `type-${type}`);
    expect(rep.status).toBe(PKIStatus.FAILURE);
    expect(rep.failInfo).toBe(FailInfo.badRequest);
    expect(rep.signatureValid).toBe(true);
    expect(await recordsForTransaction(`type-${type}`)).toHaveLength(0);
  });
});

describe('refusals carry no certificate and leave no record', () => {
  it('fail/tampered pkiMessage signature → FAILURE badMessageCheck', async () => {
    const { transactionId } = await expectFailure(
      { tamperSignature: true },
      FailInfo.badMessageCheck,
      /signature/,
    );
    expect(await recordsForTransaction(transactionId)).toHaveLength(0);
  });

  it('fail/wrong challenge → FAILURE badRequest challenge-mismatch', async () => {
    const { transactionId } = await expectFailure(
      { challenge: 'not-the-challenge' },
      FailInfo.badRequest,
      /challenge-mismatch/,
    );
    expect(await recordsForTransaction(transactionId)).toHaveLength(0);
  });

  it('fail/no challenge → FAILURE badRequest challenge-missing', async () => {
    const { transactionId } = await expectFailure(
      { challenge: undefined },
      FailInfo.badRequest,
      /challenge-missing/,
    );
    expect(await recordsForTransaction(transactionId)).toHaveLength(0);
  });

  it('fail/policy: RSA 1024 key → FAILURE badRequest naming the minimum', async () => {
    const small = await selfSignedClient('messages-small', { bits: 1024 });
    const { transactionId } = await expectFailure({ id: small }, FailInfo.badRequest, /2048/);
    expect(await recordsForTransaction(transactionId)).toHaveLength(0);
  });

  it('fail/policy: EC P-521 key → FAILURE badRequest', async () => {
    const csr = await makeCsr({ key: ecKey('P-521'), subject: 'CN=p521', challenge: CHALLENGE });
    const { transactionId } = await expectFailure({ csr }, FailInfo.badRequest, /P-521/);
    expect(await recordsForTransaction(transactionId)).toHaveLength(0);
  });

  it('fail/policy: CSR signature does not verify (no proof of possession) → FAILURE', async () => {
    const csr = await makeCsr({ key: client.key, subject: 'CN=pop', challenge: CHALLENGE, tamper: true });
    const { transactionId } = await expectFailure({ csr }, FailInfo.badRequest, /signature/);
    expect(await recordsForTransaction(transactionId)).toHaveLength(0);
  });

  it('fail/the envelope content is not a CSR → FAILURE badMessageCheck, as for content that does not decrypt', async () => {
    const { transactionId } = await expectFailure(
      { csr: new Uint8Array(randomBytes(100)) },
      FailInfo.badMessageCheck,
      /cannot be decrypted or read/,
    );
    expect(await recordsForTransaction(transactionId)).toHaveLength(0);
  });

  it('fail/a refused transaction re-sent with the right challenge is issued then (no sticky refusal)', async () => {
    const { transactionId } = await expectFailure(
      { challenge: 'nope', transactionId: 'retry-after-refusal' },
      FailInfo.badRequest,
      /challenge/,
    );
    await expectSuccess({ transactionId });
    expect(await recordsForTransaction(transactionId)).toHaveLength(1);
  });
});
