import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AsnParser } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../lib/app.js';
import { coreSection } from '../../lib/config/core.js';
import { silentLogger } from '../../lib/log.js';
import { FailInfo, MessageType, OID, PKIStatus } from '../../lib/scep/types.js';
import * as asn1js from 'asn1js';
import { AppError } from '../../lib/errors.js';
import { ecKey, makeCert, makeCsr, rsaKey, san } from '../helpers/pki.js';
import {
  buildPkiMessage,
  issuerAndSerial,
  readCertRep,
  type PkiMessageOptions,
} from '../helpers/scep-client.js';

/**
 * Regression tests for bugs found by the SCEP core test suite: settings errors that hid
 * cross-field problems, a certificate signed and recorded for an EC request signer that could
 * never be delivered, and a renewal that let a certificate holder change identity.
 */

const CHALLENGE = 'found-bugs-challenge';
let dataDir: string;
let app: App;
let ca: Certificate;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'found-bugs-'));
  app = await createApp(
    { AppConfig__DataDir: dataDir, AppConfig__StaticValidation__RequestPassword: CHALLENGE },
    { logger: silentLogger },
  );
  ca = AsnParser.parse(app.ca.certificateDer, Certificate);
});
afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

async function pki(o: Omit<PkiMessageOptions, 'recipients'>): Promise<Uint8Array> {
  const res = await app.scep.handle('static', {
    method: 'POST',
    operation: 'PKIOperation',
    rawMessage: undefined,
    body: buildPkiMessage({ ...o, recipients: [ca] }),
  });
  return res.body as Uint8Array;
}

async function records(transactionId: string): Promise<number> {
  const { items } = await app.store.search({ limit: 10_000 });
  return items.filter((r) => r.transactionId === transactionId).length;
}

describe('regressions', () => {
  // lib/config/parse.ts section(): `check` (cross-field rules) only runs when the zod schema
  // succeeded, so a missing RequestPassword is not reported together with a bad value of
  // another setting: the operator fixes one, restarts, and only then learns about the next.
  it('settings: a bad value AND a missing RequestPassword are listed in the same error', () => {
    const r = coreSection({ AppConfig__ValidityPeriodDays: 'abc' });
    expect(r.ok).toBe(false);
    const problems = r.ok ? [] : r.problems;
    expect(problems.some((p) => p.startsWith('AppConfig__ValidityPeriodDays: '))).toBe(true);
    expect(problems.some((p) => p.startsWith('AppConfig__StaticValidation__RequestPassword: '))).toBe(true);
  });

  // lib/scep/pki-enroll.ts enroll() → success(): the reply can only be encrypted to an RSA
  // request signer (sealEnvelope, RSA key transport), but the signer's key type is checked by
  // nobody before issuing. With an EC self-signed signer and a valid challenge, the CA signs
  // AND records a certificate, then sealEnvelope throws, the catch-all in handle() answers
  // FAILURE badRequest "the request could not be processed now; retry later", and every retry
  // replays the same undeliverable record. Expected: refuse before issuing (failInfo badAlg or
  // badRequest, a reason naming the signer key), nothing recorded.
  it('an EC request signer is refused before a certificate is issued or recorded', async () => {
    const key = ecKey('P-256');
    const signer = await makeCert({ key, subject: 'CN=EC SIGNER' });
    const csr = await makeCsr({ key, subject: 'CN=ec-signer', challenge: CHALLENGE });
    const rep = await readCertRep(
      await pki({
        messageType: MessageType.PKCSReq,
        transactionId: 'ec-signer',
        content: csr,
        signerKey: key,
        signerCert: signer.cert,
      }),
      rsaKey(2048, 'unused'),
      signer.cert,
    );
    expect(rep.status).toBe(PKIStatus.FAILURE);
    expect(rep.failInfoText).not.toMatch(/retry later/);
    expect(await records('ec-signer')).toBe(0);
  });

  // lib/scep/pki-enroll.ts authorize(): a renewal (RenewalReq, or PKCSReq signed by one of
  // our certificates, with AllowRenewals=true, the default) is authorized by the signer
  // certificate alone, whatever the CSR asks for. A device holding CN=laptop-1 gets, without
  // the challenge, a certificate for another subject with another user's UPN and Intune sid
  // URI (strong certificate mapping). Expected: renewal only vouches for the identity of the
  // certificate being renewed; a CSR with another subject or other SANs needs the challenge.
  it('a renewal cannot change the subject or SANs without the challenge', async () => {
    const key = rsaKey(2048, 'holder');
    const self = await makeCert({ key, subject: 'CN=SCEP SIGNER' });
    const firstCsr = await makeCsr({
      key,
      subject: 'CN=laptop-1',
      challenge: CHALLENGE,
      sans: [san.dns('laptop-1.contoso.com')],
    });
    const first = await readCertRep(
      await pki({
        messageType: MessageType.PKCSReq,
        transactionId: 'laptop-1',
        content: firstCsr,
        signerKey: key,
        signerCert: self.cert,
      }),
      key,
      self.cert,
    );
    expect(first.status).toBe(PKIStatus.SUCCESS);
    const issued = AsnParser.parse(first.certificates[0]!.raw, Certificate);
    const takeover = await makeCsr({
      key,
      subject: 'CN=Administrator',
      sans: [
        san.upn('administrator@contoso.com'),
        san.uri('tag:microsoft.com,2022-09-14:sid:S-1-5-21-1-2-3-500'),
      ],
    });
    const rep = await readCertRep(
      await pki({
        messageType: MessageType.RenewalReq,
        transactionId: 'takeover',
        content: takeover,
        signerKey: key,
        signerCert: issued,
      }),
      key,
      issued,
    );
    expect(rep.status).toBe(PKIStatus.FAILURE);
    expect(await records('takeover')).toBe(0);
  });

  // lib/scep/pki-stored.ts: GetCert and CertPoll answer SUCCESS with the certificate encrypted to
  // the request signer's key, which must be the certificate's key; for a certificate of an EC
  // key (PKCSReq signed with an RSA key, or api/csr) that signer is EC, sealEnvelope threw, and
  // the catch-all answered "the request could not be processed now; retry later" (audited as
  // an internal failure) at every retry. Expected: the same badAlg refusal as a PKCSReq.
  it('GetCert and CertPoll signed with an EC key are refused badAlg, not "retry later"', async () => {
    const rsa = rsaKey(2048, 'ec-record-rsa');
    const self = await makeCert({ key: rsa, subject: 'CN=SCEP SIGNER' });
    const ec = ecKey('P-256');
    // The certificate for the EC key, requested by a holder of an RSA signer key.
    const ecCsr = await makeCsr({ key: ec, subject: 'CN=ec-record', challenge: CHALLENGE });
    const request = { messageType: MessageType.PKCSReq, transactionId: 'ec-record', content: ecCsr };
    const first = await readCertRep(
      await pki({ ...request, signerKey: rsa, signerCert: self.cert }),
      rsa,
      self.cert,
    );
    expect(first.status).toBe(PKIStatus.SUCCESS);
    const issued = AsnParser.parse(first.certificates[0]!.raw, Certificate);
    const ecSigner = await makeCert({ key: ec, subject: 'CN=ec-record' });
    const fetch = { content: issuerAndSerial(issued), signerKey: ec, signerCert: ecSigner.cert };
    for (const [messageType, transactionId] of [
      [MessageType.GetCert, 'ec-record-getcert'],
      [MessageType.CertPoll, 'ec-record'],
    ] as const) {
      const rep = await readCertRep(await pki({ ...fetch, messageType, transactionId }), rsa, self.cert);
      expect(rep.status).toBe(PKIStatus.FAILURE);
      expect(rep.failInfo).toBe(FailInfo.badAlg);
      expect(rep.failInfoText).toMatch(/RSA key/);
    }
  });

  // lib/scep/certrep.ts wrote the reply's transactionID as a PrintableString of the string's
  // Latin-1 bytes, whatever the request carried: a UTF8String transactionID with characters
  // beyond ASCII came back as other bytes, and the client could not match the reply to its
  // request (RFC 8894 §3.3.2: the CertRep carries the request's transactionID).
  it('the CertRep echoes a UTF8String transactionID byte for byte', async () => {
    const key = rsaKey(2048, 'holder');
    const self = await makeCert({ key, subject: 'CN=SCEP SIGNER' });
    const transactionId = 'tx-é-✓-€';
    const csr = await makeCsr({ key, subject: 'CN=utf8-transaction', challenge: CHALLENGE });
    const message = { messageType: MessageType.PKCSReq, transactionId, content: csr };
    const body = await pki({ ...message, transactionIdType: 'utf8', signerKey: key, signerCert: self.cert });
    const rep = await readCertRep(body, key, self.cert);
    expect(rep.status).toBe(PKIStatus.SUCCESS);
    expect(rep.transactionId).toBe(transactionId);
  });

  describe('strict signed attributes', () => {
    const printable = (v: string): ArrayBuffer => new asn1js.PrintableString({ value: v }).toBER();
    /** What the SCEP service answers ('HTTP 200', or the refusal's code and text), and the records made. */
    const attempt = async (o: Partial<PkiMessageOptions>): Promise<{ outcome: string; records: number }> => {
      const key = rsaKey(2048, 'holder');
      const self = await makeCert({ key, subject: 'CN=SCEP SIGNER' });
      const transactionId = `strict-${Math.random().toString(36).slice(2)}`;
      const csr = await makeCsr({ key, subject: 'CN=strict-attributes', challenge: CHALLENGE });
      const body = buildPkiMessage({
        messageType: MessageType.PKCSReq,
        transactionId,
        content: csr,
        signerKey: key,
        signerCert: self.cert,
        recipients: [ca],
        ...o,
      });
      let outcome: string;
      try {
        const res = await app.scep.handle('static', {
          method: 'POST',
          operation: 'PKIOperation',
          rawMessage: undefined,
          body,
        });
        outcome = `HTTP ${res.status}`;
      } catch (e) {
        outcome = e instanceof AppError ? `${e.code}: ${e.message}` : String(e);
      }
      return { outcome, records: await records(transactionId) };
    };

    it('a messageType with trailing characters ("19abc") is not read as PKCSReq', async () => {
      const r = await attempt({ messageType: '19abc' });
      expect(r.outcome).toBe('BAD_REQUEST: the messageType attribute is not a number');
      expect(r.records).toBe(0);
    });

    it('a transactionID sent twice with different values is refused, and nothing is issued', async () => {
      const r = await attempt({ extraAttributes: [[OID.transactionID, [printable('another-transaction')]]] });
      expect(r.outcome).toBe(`BAD_REQUEST: the signed attribute ${OID.transactionID} appears more than once`);
      expect(r.records).toBe(0);
    });

    it('a messageType attribute with two values is refused', async () => {
      const r = await attempt({ replaceAttributes: [[OID.messageType, [printable('19'), printable('17')]]] });
      expect(r.outcome).toBe(`BAD_REQUEST: the signed attribute ${OID.messageType} has 2 values, not one`);
      expect(r.records).toBe(0);
    });

    it('the same request with its attributes as sent once each is issued', async () => {
      const r = await attempt({ replaceAttributes: [[OID.messageType, [printable('19')]]] });
      expect(r.outcome).toBe('HTTP 200');
      expect(r.records).toBe(1);
    });
  });
});
