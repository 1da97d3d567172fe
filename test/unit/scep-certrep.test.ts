import 'reflect-metadata';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AsnConvert, AsnParser } from '@peculiar/asn1-schema';
import { ContentInfo, SignedData } from '@peculiar/asn1-cms';
import { Certificate, Time } from '@peculiar/asn1-x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateIssuer } from '../../lib/ca/issue.js';
import { createRootCertificate } from '../../lib/ca/root.js';
import { certsOnly } from '../../lib/cms/certs-only.js';
import type { ContentCipher } from '../../lib/cms/ciphers.js';
import type { ResponseCipher } from '../../lib/config/core.js';
import { parseCsr } from '../../lib/csr/parse.js';
import { LocalKey } from '../../lib/keys/local.js';
import type { HashAlgorithm } from '../../lib/keys/types.js';
import { readString } from '../../testkit/scep-client.js';
import { buildCertRep, type CertRepOutcome } from '../../lib/scep/certrep.js';
import { openEnvelope, sealEnvelope } from '../../lib/scep/envelope.js';
import { parsePkiMessage } from '../../lib/scep/message.js';
import { responseCipher } from '../../lib/scep/pki-reply.js';
import { transactionRef } from '../../lib/scep/pki-request.js';
import { FailInfo, MessageType, OID, PKIStatus } from '../../lib/scep/types.js';
import { makeCert, makeCsr, rsaKey } from '../helpers/pki.js';
import { readCertRep } from '../helpers/scep-client.js';

/** CertRep (RFC 8894 §3.3.2) and the reply cipher choice. */

const NOW = new Date('2026-03-01T12:00:00Z');
const hasOpenssl = spawnSync('openssl', ['version']).status === 0;
const caKey = rsaKey(2048, 'certrep-ca');
const requesterKey = rsaKey(2048, 'certrep-requester');
const ca = new LocalKey(caKey, 'ca');
let caCert: Certificate;
let caDer: Uint8Array;
let requester: Awaited<ReturnType<typeof makeCert>>;
let leafDer: Uint8Array;
let tmp: string;

beforeAll(async () => {
  caDer = await createRootCertificate({ signer: ca, subject: 'CN=CertRep Test CA', days: 365, now: NOW });
  caCert = AsnParser.parse(caDer, Certificate);
  requester = await makeCert({ key: requesterKey, subject: 'CN=SCEP SIGNER' });
  const issuer = new CertificateIssuer(
    { certificateDer: caDer, chainDer: [], signer: ca, decrypter: ca },
    { clockSkewMinutes: 0 },
  );
  leafDer = (
    await issuer.issue(
      parseCsr(await makeCsr({ key: requesterKey, subject: 'CN=leaf' })),
      { validityDays: 30, keyUsage: ['DigitalSignature'], ekus: [] },
      NOW,
    )
  ).der;
  tmp = mkdtempSync(join(tmpdir(), 'certrep-test-'));
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

const nonce = new Uint8Array(randomBytes(16));

function build(
  outcome: CertRepOutcome,
  hash: HashAlgorithm = 'SHA-256',
  transactionId = 'tx-123',
): Promise<Uint8Array> {
  return buildCertRep({
    transactionId,
    recipientNonce: nonce,
    outcome,
    signerCertificate: caCert,
    signer: ca,
    hash,
    now: NOW,
  });
}

function success(cipher: Exclude<ContentCipher, 'DES-CBC'> = 'AES-256-CBC'): CertRepOutcome {
  return { status: PKIStatus.SUCCESS, envelope: sealEnvelope(certsOnly([leafDer]), requester.cert, cipher) };
}

function signedData(der: Uint8Array): SignedData {
  return AsnParser.parse(AsnParser.parse(der, ContentInfo).content, SignedData);
}

function attr(der: Uint8Array, oid: string): ArrayBuffer | undefined {
  return signedData(der).signerInfos[0]?.signedAttrs?.find((a) => a.attrType === oid)?.attrValues[0];
}

describe('buildCertRep', () => {
  it('ok/SignerInfo.signatureAlgorithm is rsaEncryption (strongSwan 5.9.x refuses sha256WithRSAEncryption)', async () => {
    const si = signedData(await build(success())).signerInfos[0]!;
    expect(si.signatureAlgorithm.algorithm).toBe('1.2.840.113549.1.1.1');
    expect(si.digestAlgorithm.algorithm).toBe('2.16.840.1.101.3.4.2.1');
  });

  it('ok/SUCCESS: transactionID echoed, recipientNonce = request senderNonce, CA certificate carried, signature verifies', async () => {
    const der = await build(success(), 'SHA-256', 'jEitwx6pQ+DHd6U3Wa2zCiqazgU=');
    const rep = await readCertRep(der, requesterKey, requester.cert);
    expect(rep.messageType).toBe(MessageType.CertRep);
    expect(rep.status).toBe(PKIStatus.SUCCESS);
    expect(rep.transactionId).toBe('jEitwx6pQ+DHd6U3Wa2zCiqazgU=');
    expect(Buffer.from(rep.recipientNonce).equals(Buffer.from(nonce))).toBe(true);
    expect(rep.signatureValid).toBe(true);
    expect(rep.signerCertificates.map((c) => c.raw.equals(Buffer.from(caDer)))).toEqual([true]);
    expect(rep.certificates.map((c) => c.raw.equals(Buffer.from(leafDer)))).toEqual([true]);
    expect(rep.cipher).toBe('AES-256-CBC');
    expect(rep.failInfo).toBeUndefined();
  });

  it('ok/a fresh 16-byte senderNonce in every reply, never the recipientNonce', async () => {
    const a = parsePkiMessage(await build(success())).senderNonce;
    const b = parsePkiMessage(await build(success())).senderNonce;
    expect(a).toHaveLength(16);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
    expect(Buffer.from(a).equals(Buffer.from(nonce))).toBe(false);
  });

  it('ok/signingTime is the injected clock', async () => {
    const der = await build(success());
    const t = AsnParser.parse(attr(der, OID.signingTime)!, Time);
    expect(t.getTime().getTime()).toBe(NOW.getTime());
  });

  it('ok/FAILURE: pkiStatus 2, failInfo and failInfoText, no envelope', async () => {
    const der = await build({
      status: PKIStatus.FAILURE,
      failInfo: FailInfo.badCertId,
      failInfoText: 'no certificate was issued for this transactionID',
    });
    const rep = await readCertRep(der, requesterKey, requester.cert);
    expect(rep.status).toBe(PKIStatus.FAILURE);
    expect(rep.failInfo).toBe(FailInfo.badCertId);
    expect(rep.failInfoText).toBe('no certificate was issued for this transactionID');
    expect(rep.signatureValid).toBe(true);
    expect(signedData(der).encapContentInfo.eContent).toBeUndefined();
    expect(parsePkiMessage(der).envelope).toHaveLength(0);
    expect(readString(attr(der, OID.pkiStatus)!)).toBe('2');
    expect(new Uint8Array(attr(der, OID.failInfo)!)[0]).toBe(0x13); // PrintableString
    expect(new Uint8Array(attr(der, OID.failInfoText)!)[0]).toBe(0x0c); // UTF8String
  });

  it('ok/a failInfoText is cut at 250 characters', async () => {
    const der = await build({
      status: PKIStatus.FAILURE,
      failInfo: FailInfo.badRequest,
      failInfoText: 'x'.repeat(1000),
    });
    expect(readString(attr(der, OID.failInfoText)!)).toHaveLength(250);
  });

  it('ok/PENDING: pkiStatus 3, no failInfo, no envelope', async () => {
    const der = await build({ status: PKIStatus.PENDING });
    const rep = await readCertRep(der, requesterKey, requester.cert);
    expect(rep.status).toBe(PKIStatus.PENDING);
    expect(rep.failInfo).toBeUndefined();
    expect(signedData(der).encapContentInfo.eContent).toBeUndefined();
  });

  it.each(['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512'] as const)('ok/signed with %s verifies', async (hash) => {
    const msg = parsePkiMessage(await build(success(), hash));
    expect(msg.digestAlgorithm).toBe(hash);
    expect(msg.signatureValid).toBe(true);
  });

  it('ok/extra chain certificates are carried after the signer', async () => {
    const other = await makeCert({ key: requesterKey, subject: 'CN=Chain' });
    const der = await buildCertRep({
      transactionId: 't',
      recipientNonce: nonce,
      outcome: { status: PKIStatus.PENDING },
      signerCertificate: caCert,
      extraCertificates: [other.der],
      signer: ca,
      hash: 'SHA-256',
    });
    const set = signedData(der).certificates;
    expect(set).toBeDefined();
    const certs = Array.from(set!, (c) => Buffer.from(AsnConvert.serialize(c.certificate!)));
    expect(certs.map((c) => c.equals(Buffer.from(caDer)))).toEqual([true, false]);
    expect(certs[1]!.equals(Buffer.from(other.der))).toBe(true);
  });
});

describe.skipIf(!hasOpenssl)(
  `CertRep checked by openssl cms${hasOpenssl ? '' : ' (skipped: openssl is not installed)'}`,
  () => {
    const cms = (args: string[]): { status: number | null; stderr: string } => {
      const r = spawnSync('openssl', ['cms', '-verify', '-inform', 'DER', ...args], { encoding: 'utf8' });
      return { status: r.status, stderr: r.stderr };
    };

    it('ok/SUCCESS verifies with -noverify and with the CA as trust anchor; the content is the envelope', async () => {
      const outcome = success();
      const file = join(tmp, 'success.der');
      const out = join(tmp, 'success.content');
      writeFileSync(file, await build(outcome));
      expect(cms(['-noverify', '-binary', '-in', file, '-out', out]).status).toBe(0);
      expect(readFileSync(out).equals(Buffer.from((outcome as { envelope: Uint8Array }).envelope))).toBe(
        true,
      );
      const caFile = join(tmp, 'ca.pem');
      writeFileSync(caFile, new X509Certificate(caDer).toString());
      const at = String(Math.floor(NOW.getTime() / 1000) + 60);
      const r = cms([
        '-CAfile',
        caFile,
        '-purpose',
        'any',
        '-attime',
        at,
        '-binary',
        '-in',
        file,
        '-out',
        out,
      ]);
      expect(r.status, r.stderr).toBe(0);
    });

    it.each(['SHA-1', 'SHA-384', 'SHA-512'] as const)(
      'ok/a SUCCESS signed with %s verifies',
      async (hash) => {
        const file = join(tmp, `success-${hash}.der`);
        writeFileSync(file, await build(success('DES-EDE3-CBC'), hash));
        const r = cms(['-noverify', '-binary', '-in', file, '-out', join(tmp, 'x.content')]);
        expect(r.status, r.stderr).toBe(0);
      },
    );

    it('ok/FAILURE (no content) verifies as a signature over empty content', async () => {
      const file = join(tmp, 'failure.der');
      const empty = join(tmp, 'empty');
      writeFileSync(
        file,
        await build({ status: PKIStatus.FAILURE, failInfo: FailInfo.badRequest, failInfoText: 'refused' }),
      );
      writeFileSync(empty, '');
      const r = cms(['-noverify', '-binary', '-in', file, '-content', empty, '-out', join(tmp, 'f.content')]);
      expect(r.status, r.stderr).toBe(0);
    });

    it('ok/openssl decrypts the SUCCESS envelope with the requester key (3DES and AES)', () => {
      for (const cipher of ['DES-EDE3-CBC', 'AES-128-CBC', 'AES-256-CBC'] as const) {
        const outcome = success(cipher);
        const envFile = join(tmp, `env-${cipher}.der`);
        writeFileSync(envFile, (outcome as { envelope: Uint8Array }).envelope);
        const keyFile = join(tmp, 'requester.key');
        writeFileSync(keyFile, requesterKey.export({ format: 'pem', type: 'pkcs8' }));
        const certs = execFileSync('openssl', [
          'cms',
          '-decrypt',
          '-inform',
          'DER',
          '-in',
          envFile,
          '-inkey',
          keyFile,
          '-binary',
        ]);
        expect(certs.equals(Buffer.from(certsOnly([leafDer])))).toBe(true);
      }
    });
  },
);

describe('sealEnvelope / openEnvelope round trip', () => {
  it.each(['DES-EDE3-CBC', 'AES-128-CBC', 'AES-192-CBC', 'AES-256-CBC'] as const)('ok/%s', async (cipher) => {
    const content = new Uint8Array(randomBytes(777));
    const opened = await openEnvelope(
      sealEnvelope(content, requester.cert, cipher),
      requester.cert,
      new LocalKey(requesterKey, 'r'),
    );
    expect(opened.cipher).toBe(cipher);
    expect(Buffer.from(opened.content).equals(Buffer.from(content))).toBe(true);
  });
});

describe('responseCipher', () => {
  const requests: ContentCipher[] = ['DES-CBC', 'DES-EDE3-CBC', 'AES-128-CBC', 'AES-192-CBC', 'AES-256-CBC'];
  const configured: ResponseCipher[] = ['auto', 'AES-128-CBC', 'AES-192-CBC', 'AES-256-CBC', 'DES-EDE3-CBC'];

  it.each([
    ['AES-128-CBC', 'AES-128-CBC'],
    ['AES-192-CBC', 'AES-192-CBC'],
    ['AES-256-CBC', 'AES-256-CBC'],
    ['DES-EDE3-CBC', 'DES-EDE3-CBC'],
    ['DES-CBC', 'DES-EDE3-CBC'],
  ] as const)('ok/auto + a %s request → %s', (request, reply) => {
    expect(responseCipher('auto', request)).toBe(reply);
  });

  it('ok/a configured cipher wins over the request', () => {
    expect(responseCipher('AES-256-CBC', 'DES-CBC')).toBe('AES-256-CBC');
    expect(responseCipher('DES-EDE3-CBC', 'AES-128-CBC')).toBe('DES-EDE3-CBC');
  });

  it('ok/never single DES, for any setting and any request', () => {
    for (const c of configured) for (const r of requests) expect(responseCipher(c, r)).not.toBe('DES-CBC');
  });
});

describe('transactionRef', () => {
  const notOurs = undefined;
  const renewal = '0a1b';

  it('ok/the same transaction gives the same key; endpoint, transactionID, messageType and renewal signer each change it', () => {
    const base = transactionRef('static', 'tx', MessageType.PKCSReq, notOurs);
    expect(transactionRef('static', 'tx', MessageType.PKCSReq, notOurs)).toBe(base);
    const others = [
      transactionRef('intune', 'tx', MessageType.PKCSReq, notOurs),
      transactionRef('static', 'tx2', MessageType.PKCSReq, notOurs),
      transactionRef('static', 'tx', MessageType.RenewalReq, notOurs),
      transactionRef('static', 'tx', MessageType.PKCSReq, renewal),
    ];
    expect(new Set([base, ...others]).size).toBe(5);
  });
});
