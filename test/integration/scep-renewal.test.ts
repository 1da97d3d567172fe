import { createHash, createPublicKey, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import { AsnParser } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getApp } from '../../lib/app.js';
import { serialHex } from '../../lib/ca/sign.js';
import type { CertificateRecord } from '../../lib/store/types.js';
import { FailInfo, MessageType, PKIStatus } from '../../lib/scep/types.js';
import { startTestHost, type TestHost } from '../helpers/host.js';
import { makeCert, makeCsr, rsaKey, type TestCert } from '../helpers/pki.js';
import { buildPkiMessage, type CertRep } from '../helpers/scep-client.js';
import {
  hostCa,
  issuedBy,
  pkiOperation,
  recordsForTransaction,
  selfSignedClient,
} from '../helpers/scep-flow.js';

/**
 * Renewal in its three real forms (issue 2 §5, field notes #9) with AllowRenewals=true (the
 * default): RenewalReq signed by our earlier certificate with the same key (micromdm),
 * RenewalReq with a new key (strongSwan; reply encrypted to the OLD certificate), PKCSReq
 * signed by our earlier certificate. A renewal signer must be ours, recorded, unexpired and
 * unrevoked.
 */

const CHALLENGE = 'test-challenge-1';
const HOUR = 3_600_000;
let host: TestHost;

beforeAll(async () => {
  host = await startTestHost();
});
afterAll(async () => {
  await host.close();
});

interface Holder {
  key: KeyObject;
  cert: Certificate;
  x509: X509Certificate;
}

const spkiHash = (k: KeyObject): string =>
  createHash('sha256')
    .update((k.type === 'public' ? k : createPublicKey(k)).export({ format: 'der', type: 'spki' }))
    .digest('hex');

async function request(o: {
  messageType: MessageType;
  transactionId: string;
  csrKey: KeyObject;
  cn: string;
  challenge?: string;
  signer: Holder;
}): Promise<CertRep> {
  const csr = await makeCsr({
    key: o.csrKey,
    subject: `CN=${o.cn}`,
    ...(o.challenge === undefined ? {} : { challenge: o.challenge }),
  });
  const msg = buildPkiMessage({
    messageType: o.messageType,
    transactionId: o.transactionId,
    content: csr,
    recipients: [host.ca],
    signerKey: o.signer.key,
    signerCert: o.signer.cert,
  });
  // The reply envelope is encrypted to the request signer: readCertRep opens it with that key.
  return pkiOperation(host, msg, { key: o.signer.key, cert: o.signer.cert });
}

/** A first enrollment (self-signed signer + challenge); returns the issued certificate with its key. */
/** Key generation is slow: every holder uses the 'holder' key, every other party the 'other' key. */
async function enrollFirst(name: string): Promise<Holder> {
  const id = await selfSignedClient('holder');
  const rep = await request({
    messageType: MessageType.PKCSReq,
    transactionId: `first-${name}`,
    csrKey: id.key,
    cn: name,
    challenge: CHALLENGE,
    signer: { key: id.key, cert: id.signer.cert, x509: id.signer.x509 },
  });
  expect(rep.status, rep.failInfoText).toBe(PKIStatus.SUCCESS);
  const x509 = rep.certificates[0]!;
  return { key: id.key, cert: AsnParser.parse(x509.raw, Certificate), x509 };
}

const holder = (t: TestCert): Holder => ({ key: t.key, cert: t.cert, x509: t.x509 });

function expectIssued(rep: CertRep): X509Certificate {
  expect(rep.status, rep.failInfoText).toBe(PKIStatus.SUCCESS);
  expect(rep.signatureValid).toBe(true);
  return rep.certificates[0]!;
}

async function expectRefused(rep: CertRep, transactionId: string, reason: RegExp): Promise<void> {
  expect(rep.status).toBe(PKIStatus.FAILURE);
  expect(rep.failInfo).toBe(FailInfo.badRequest);
  expect(rep.failInfoText).toMatch(reason);
  expect(rep.certificates).toHaveLength(0);
  expect(await recordsForTransaction(transactionId)).toHaveLength(0);
}

async function recordOf(cert: X509Certificate): Promise<CertificateRecord> {
  const r = await (
    await getApp()
  ).store.getBySerial(serialHex(AsnParser.parse(cert.raw, Certificate).tbsCertificate.serialNumber));
  expect(r).toBeDefined();
  return r!;
}

describe('renewal accepted (AllowRenewals=true)', () => {
  it('ok/micromdm: RenewalReq signed by our certificate, same key, same transactionID as the PKCSReq, no challenge → a new certificate', async () => {
    const old = await enrollFirst('mm-renew');
    const rep = await request({
      messageType: MessageType.RenewalReq,
      transactionId: 'first-mm-renew',
      csrKey: old.key,
      cn: 'mm-renew',
      signer: old,
    });
    const renewed = expectIssued(rep);
    expect(renewed.serialNumber).not.toBe(old.x509.serialNumber);
    expect(renewed.subject).toBe('CN=mm-renew');
    expect(spkiHash(renewed.publicKey)).toBe(spkiHash(old.key));
    const record = await recordOf(renewed);
    expect(record.authorization).toBe('renewal');
    expect(record.requester).toBe(`renewal:${serialHex(old.cert.tbsCertificate.serialNumber)}`);
  });

  it('ok/micromdm: the same RenewalReq re-sent gets the same renewed certificate', async () => {
    const old = await enrollFirst('mm-resend');
    const again = () =>
      request({
        messageType: MessageType.RenewalReq,
        transactionId: 'renew-resend',
        csrKey: old.key,
        cn: 'mm-resend',
        signer: old,
      });
    const a = expectIssued(await again());
    const b = expectIssued(await again());
    expect(b.serialNumber).toBe(a.serialNumber);
  });

  it('ok/strongSwan: RenewalReq with a NEW key signed by the old certificate → reply encrypted to the OLD certificate', async () => {
    const old = await enrollFirst('ss-renew');
    const newKey = rsaKey(2048, 'other');
    const rep = await request({
      messageType: MessageType.RenewalReq,
      transactionId: randomBytes(20).toString('hex').toUpperCase(),
      csrKey: newKey,
      cn: 'ss-renew',
      challenge: CHALLENGE,
      signer: old,
    });
    // pkiOperation opened the envelope with the OLD key and certificate.
    const renewed = expectIssued(rep);
    expect(spkiHash(renewed.publicKey)).toBe(spkiHash(newKey));
    expect(spkiHash(renewed.publicKey)).not.toBe(spkiHash(old.key));
  });

  it('ok/PKCSReq signed by our earlier certificate without a challenge (Apple-style re-enrollment)', async () => {
    const old = await enrollFirst('pkcs-renew');
    const rep = await request({
      messageType: MessageType.PKCSReq,
      transactionId: 'pkcs-renew-nochallenge',
      csrKey: old.key,
      cn: 'pkcs-renew',
      signer: old,
    });
    const renewed = expectIssued(rep);
    expect(renewed.serialNumber).not.toBe(old.x509.serialNumber);
    expect((await recordOf(renewed)).authorization).toBe('renewal');
  });

  it('ok/PKCSReq signed by our earlier certificate with a WRONG challenge is still a renewal', async () => {
    const old = await enrollFirst('pkcs-renew-wrong');
    const rep = await request({
      messageType: MessageType.PKCSReq,
      transactionId: 'pkcs-renew-wrong',
      csrKey: old.key,
      cn: 'pkcs-renew-wrong',
      challenge: 'wrong-challenge',
      signer: old,
    });
    expectIssued(rep);
  });

  it('ok/PKCSReq signed by our earlier certificate with the right challenge is authorized by the challenge', async () => {
    const old = await enrollFirst('pkcs-renew-right');
    const rep = await request({
      messageType: MessageType.PKCSReq,
      transactionId: 'pkcs-renew-right',
      csrKey: old.key,
      cn: 'pkcs-renew-right',
      challenge: CHALLENGE,
      signer: old,
    });
    expect((await recordOf(expectIssued(rep))).authorization).toBe('static');
  });

  it('ok/a renewed certificate can itself renew', async () => {
    const first = await enrollFirst('chain-renew');
    const second = expectIssued(
      await request({
        messageType: MessageType.RenewalReq,
        transactionId: 'chain-1',
        csrKey: first.key,
        cn: 'chain-renew',
        signer: first,
      }),
    );
    const secondHolder = { key: first.key, cert: AsnParser.parse(second.raw, Certificate), x509: second };
    const third = expectIssued(
      await request({
        messageType: MessageType.RenewalReq,
        transactionId: 'chain-2',
        csrKey: first.key,
        cn: 'chain-renew',
        signer: secondHolder,
      }),
    );
    expect(new Set([first.x509.serialNumber, second.serialNumber, third.serialNumber]).size).toBe(3);
  });
});

describe('renewal refused', () => {
  it('fail/RenewalReq signed by a self-signed certificate → renewal-signer-not-ours', async () => {
    const id = await selfSignedClient('holder');
    const rep = await request({
      messageType: MessageType.RenewalReq,
      transactionId: 'self-renew',
      csrKey: id.key,
      cn: 'self',
      challenge: CHALLENGE,
      signer: holder(id.signer),
    });
    await expectRefused(rep, 'self-renew', /renewal-signer-not-ours|signed by a certificate this CA issued/);
  });

  it('fail/RenewalReq signed by a certificate from a foreign CA → FAILURE badMessageCheck', async () => {
    const foreignCa = await makeCert({ key: rsaKey(2048, 'other'), subject: 'CN=Foreign CA' });
    const key = rsaKey(2048, 'holder');
    const foreign = await issuedBy(foreignCa, key, 'CN=foreign-device');
    const rep = await request({
      messageType: MessageType.RenewalReq,
      transactionId: 'foreign-renew',
      csrKey: key,
      cn: 'foreign-device',
      signer: holder(foreign),
    });
    // Neither self-signed nor ours: the signer vouches for nothing (RFC 8894 §2.3).
    expect(rep.failInfo).toBe(FailInfo.badMessageCheck);
    expect(rep.failInfoText).toMatch(/neither self-signed nor issued by this CA/);
    expect(rep.certificates).toHaveLength(0);
    expect(await recordsForTransaction('foreign-renew')).toHaveLength(0);
  });

  it('fail/RenewalReq signed by a look-alike certificate naming our CA as issuer but signed by another key → FAILURE badMessageCheck', async () => {
    const impostor = await makeCert({
      key: rsaKey(2048, 'other'),
      subject: (await getApp()).settings.core.localCa.subject,
    });
    const key = rsaKey(2048, 'holder');
    const lookalike = await issuedBy(impostor, key, 'CN=lookalike');
    expect(lookalike.x509.issuer).toBe(hostCa(host).x509.subject);
    const rep = await request({
      messageType: MessageType.RenewalReq,
      transactionId: 'lookalike-renew',
      csrKey: key,
      cn: 'lookalike',
      signer: holder(lookalike),
    });
    // Neither self-signed nor ours: the signer vouches for nothing (RFC 8894 §2.3).
    expect(rep.failInfo).toBe(FailInfo.badMessageCheck);
    expect(rep.failInfoText).toMatch(/neither self-signed nor issued by this CA/);
    expect(rep.certificates).toHaveLength(0);
    expect(await recordsForTransaction('lookalike-renew')).toHaveLength(0);
  });

  it('fail/RenewalReq signed by an EXPIRED certificate we issued → renewal-signer-expired', async () => {
    const key = rsaKey(2048, 'holder');
    const expired = await issuedBy(
      hostCa(host),
      key,
      'CN=expired',
      new Date(Date.now() - 48 * HOUR),
      new Date(Date.now() - HOUR),
    );
    const rep = await request({
      messageType: MessageType.RenewalReq,
      transactionId: 'expired-renew',
      csrKey: key,
      cn: 'expired',
      signer: holder(expired),
    });
    await expectRefused(rep, 'expired-renew', /renewal-signer-expired/);
  });

  it('fail/RenewalReq signed by a not-yet-valid certificate we issued → renewal-signer-not-yet-valid', async () => {
    const key = rsaKey(2048, 'holder');
    const future = await issuedBy(
      hostCa(host),
      key,
      'CN=future',
      new Date(Date.now() + 24 * HOUR),
      new Date(Date.now() + 48 * HOUR),
    );
    const rep = await request({
      messageType: MessageType.RenewalReq,
      transactionId: 'future-renew',
      csrKey: key,
      cn: 'future',
      signer: holder(future),
    });
    await expectRefused(rep, 'future-renew', /renewal-signer-not-yet-valid/);
  });

  it('fail/RenewalReq signed by a CA-signed certificate that is not in the store → renewal-signer-unknown', async () => {
    const key = rsaKey(2048, 'holder');
    const unrecorded = await issuedBy(hostCa(host), key, 'CN=unrecorded');
    const rep = await request({
      messageType: MessageType.RenewalReq,
      transactionId: 'unrecorded-renew',
      csrKey: key,
      cn: 'unrecorded',
      signer: holder(unrecorded),
    });
    await expectRefused(rep, 'unrecorded-renew', /renewal-signer-unknown/);
  });

  it('fail/RenewalReq signed by a REVOKED certificate → renewal-signer-revoked; PKCSReq without a challenge is refused too', async () => {
    const old = await enrollFirst('revoked');
    const store = (await getApp()).store;
    const record = await recordOf(old.x509);
    const revoked = await store.update(record, {
      status: 'revoked',
      revocation: { reason: 'keyCompromise', date: new Date().toISOString() },
    });
    expect(revoked?.status).toBe('revoked');
    const rep = await request({
      messageType: MessageType.RenewalReq,
      transactionId: 'revoked-renew',
      csrKey: old.key,
      cn: 'revoked',
      signer: old,
    });
    await expectRefused(rep, 'revoked-renew', /renewal-signer-revoked/);
    const pkcs = await request({
      messageType: MessageType.PKCSReq,
      transactionId: 'revoked-pkcs',
      csrKey: old.key,
      cn: 'revoked',
      signer: old,
    });
    await expectRefused(pkcs, 'revoked-pkcs', /challenge-missing/);
  });

  it('fail/RenewalReq by a revoked signer is refused even WITH the right challenge', async () => {
    const old = await enrollFirst('revoked-challenge');
    const store = (await getApp()).store;
    await store.update(await recordOf(old.x509), { status: 'revoked' });
    const rep = await request({
      messageType: MessageType.RenewalReq,
      transactionId: 'revoked-challenge-renew',
      csrKey: old.key,
      cn: 'revoked-challenge',
      challenge: CHALLENGE,
      signer: old,
    });
    await expectRefused(rep, 'revoked-challenge-renew', /renewal-signer-revoked/);
  });
});
