import 'reflect-metadata';
import {
  createDecipheriv,
  createHash,
  createPrivateKey,
  createPublicKey,
  randomBytes,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AsnParser } from '@peculiar/asn1-schema';
import { CertificationRequest } from '@peculiar/asn1-csr';
import { id_pkcs9_at_challengePassword } from '@peculiar/asn1-pkcs9';
import { Certificate } from '@peculiar/asn1-x509';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../lib/errors.js';
import { parseCsr } from '../../lib/csr/parse.js';
import { LocalKey } from '../../lib/keys/local.js';
import { EnvelopeError, openEnvelope } from '../../lib/scep/envelope.js';
import { parsePkiMessage } from '../../lib/scep/message.js';
import { MessageType } from '../../lib/scep/types.js';
import { generalNameToString } from '../../lib/x509/names.js';
import { berPkiMessage } from '../helpers/ber.js';
import { makeCert, rsaKey } from '../helpers/pki.js';
import { buildPkiMessage, readCertRep } from '../helpers/scep-client.js';

/**
 * The pkiMessages real clients sent (test/fixtures/scep/README.md): micromdm scepclient 2.1.0
 * and strongSwan pki 5.9.8, all encrypted to the peer CA whose key is in the fixtures.
 */
const dir = join(import.meta.dirname, '..', 'fixtures', 'scep');
const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(join(dir, name)));
const peerCaKey = createPrivateKey({
  key: readFileSync(join(dir, 'peer-ca.key.enc-pem')),
  passphrase: 'peerpass',
});
const peerCa = AsnParser.parse(new X509Certificate(readFileSync(join(dir, 'peer-ca.pem'))).raw, Certificate);
const peer = new LocalKey(peerCaKey, 'peer-ca');
const clientKey = (name: string): KeyObject => createPrivateKey(readFileSync(join(dir, name)));
const spkiSha256 = (k: KeyObject): string =>
  createHash('sha256')
    .update(createPublicKey(k).export({ format: 'der', type: 'spki' }))
    .digest('hex');
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

const BASE64_TX = /^[A-Za-z0-9+/]+={0,2}$/;
const HEX40_TX = /^[0-9A-F]{40}$/;

interface RequestFixture {
  file: string;
  messageType: MessageType;
  tx: RegExp;
  digest: 'SHA-1' | 'SHA-256';
  cipher: 'DES-CBC' | 'DES-EDE3-CBC' | 'AES-128-CBC';
  cn: string;
  challenge: string;
  /** DER tag of the challengePassword value: 0x13 PrintableString, 0x0c UTF8String. */
  challengeTag: number;
  sans: string[];
}

const requests: RequestFixture[] = [
  {
    file: 'micromdm-pkcsreq-des.der',
    messageType: MessageType.PKCSReq,
    tx: BASE64_TX,
    digest: 'SHA-1',
    cipher: 'DES-CBC',
    cn: 'mm-runall',
    challenge: 'runall-secret',
    challengeTag: 0x13,
    sans: [],
  },
  {
    file: 'micromdm-renewalreq-des.der',
    messageType: MessageType.RenewalReq,
    tx: BASE64_TX,
    digest: 'SHA-1',
    cipher: 'DES-CBC',
    cn: 'mm-runall',
    challenge: 'runall-secret',
    challengeTag: 0x13,
    sans: [],
  },
  {
    file: 'micromdm-pkcsreq-wrong-challenge.der',
    messageType: MessageType.PKCSReq,
    tx: BASE64_TX,
    digest: 'SHA-1',
    cipher: 'DES-CBC',
    cn: 'mm-bad',
    challenge: 'wrong',
    challengeTag: 0x13,
    sans: [],
  },
  {
    file: 'strongswan-pkcsreq-3des.der',
    messageType: MessageType.PKCSReq,
    tx: HEX40_TX,
    digest: 'SHA-256',
    cipher: 'DES-EDE3-CBC',
    cn: 'ss-runall',
    challenge: 'runall-secret',
    challengeTag: 0x0c,
    sans: ['dns:ss-runall'],
  },
  {
    file: 'strongswan-pkcsreq-3des-direct.der',
    messageType: MessageType.PKCSReq,
    tx: HEX40_TX,
    digest: 'SHA-256',
    cipher: 'DES-EDE3-CBC',
    cn: 'ss-direct',
    challenge: 'runall-secret',
    challengeTag: 0x0c,
    sans: ['dns:ss-direct'],
  },
  {
    file: 'strongswan-renewalreq-3des.der',
    messageType: MessageType.RenewalReq,
    tx: HEX40_TX,
    digest: 'SHA-256',
    cipher: 'DES-EDE3-CBC',
    cn: 'ss-runall',
    challenge: 'runall-secret',
    challengeTag: 0x0c,
    sans: ['dns:ss-runall'],
  },
  {
    file: 'strongswan-pkcsreq-aes128.der',
    messageType: MessageType.PKCSReq,
    tx: HEX40_TX,
    digest: 'SHA-256',
    cipher: 'AES-128-CBC',
    cn: 'ss-aes',
    challenge: 'runall-secret',
    challengeTag: 0x0c,
    sans: ['dns:ss-aes'],
  },
];

function challengeTag(csrDer: Uint8Array): number | undefined {
  const req = AsnParser.parse(csrDer, CertificationRequest);
  const attr = req.certificationRequestInfo.attributes.find((a) => a.type === id_pkcs9_at_challengePassword);
  const value = attr?.values[0];
  return value ? new Uint8Array(value)[0] : undefined;
}

/** Flip one byte of `needle`'s first occurrence inside `der`. */
function flipInside(der: Uint8Array, needle: Uint8Array, offset = 0): Uint8Array {
  const at = Buffer.from(der).indexOf(Buffer.from(needle));
  expect(at, 'the bytes to tamper with are in the message').toBeGreaterThanOrEqual(0);
  const out = new Uint8Array(der);
  out[at + offset] = (out[at + offset] ?? 0) ^ 0x01;
  return out;
}

function expectBadRequest(fn: () => unknown): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(AppError);
  expect((thrown as AppError).code).toBe('BAD_REQUEST');
}

describe('parsePkiMessage on real client requests', () => {
  it.each(requests)('ok/$file: messageType, transactionID form, digest and a valid signature', (f) => {
    const msg = parsePkiMessage(fixture(f.file));
    expect(msg.messageType).toBe(f.messageType);
    expect(msg.transactionId).toMatch(f.tx);
    expect(msg.digestAlgorithm).toBe(f.digest);
    expect(msg.senderNonce).toHaveLength(16);
    expect(msg.envelope.length).toBeGreaterThan(500);
    expect(msg.signatureValid).toBe(true);
  });

  it('ok/micromdm transactionID is base64 of a SHA-1 (28 characters)', () => {
    expect(parsePkiMessage(fixture('micromdm-pkcsreq-des.der')).transactionId).toBe(
      'jEitwx6pQ+DHd6U3Wa2zCiqazgU=',
    );
  });

  it('ok/strongSwan transactionID is 40 hex digits and its signer subject is the requested DN', () => {
    const msg = parsePkiMessage(fixture('strongswan-pkcsreq-3des.der'));
    expect(msg.transactionId).toBe('73CCA92197B021B79252B8683456D0FC0C0B168D');
    expect(new X509Certificate(msg.signerCertificateDer).subject).toContain('CN=ss-runall');
  });

  it('ok/micromdm first enrollment is signed by a self-signed "SCEP SIGNER" certificate', () => {
    const signer = new X509Certificate(
      parsePkiMessage(fixture('micromdm-pkcsreq-des.der')).signerCertificateDer,
    );
    expect(signer.subject).toContain('CN=SCEP SIGNER');
    expect(signer.issuer).toBe(signer.subject);
  });

  it.each(requests)(
    'ok/$file re-encoded as BER (indefinite lengths, chunked eContent) parses the same and verifies',
    (f) => {
      const der = fixture(f.file);
      const ber = berPkiMessage(der, 100);
      expect(ber[1]).toBe(0x80);
      const a = parsePkiMessage(der);
      const b = parsePkiMessage(ber);
      expect(b.messageType).toBe(a.messageType);
      expect(b.transactionId).toBe(a.transactionId);
      expect(Buffer.from(b.senderNonce).equals(Buffer.from(a.senderNonce))).toBe(true);
      expect(Buffer.from(b.envelope).equals(Buffer.from(a.envelope))).toBe(true);
      expect(b.signatureValid).toBe(true);
    },
  );

  it.each(requests)('fail/$file with a flipped signed-attribute byte: parses, signatureValid false', (f) => {
    const der = fixture(f.file);
    const original = parsePkiMessage(der);
    const msg = parsePkiMessage(flipInside(der, original.senderNonce, 3));
    expect(msg.transactionId).toBe(original.transactionId);
    expect(msg.signatureValid).toBe(false);
  });

  it.each(requests)(
    'fail/$file with a flipped envelope byte: messageDigest mismatch, signatureValid false',
    (f) => {
      const der = fixture(f.file);
      const original = parsePkiMessage(der);
      const middle = original.envelope.subarray(400, 432);
      const msg = parsePkiMessage(flipInside(der, middle, 5));
      expect(msg.signatureValid).toBe(false);
    },
  );

  it.each(requests.map((r) => r.file))('fail/%s truncated anywhere is BAD_REQUEST', (file) => {
    const der = fixture(file);
    for (const len of [0, 1, 2, 16, 100, Math.floor(der.length / 2), der.length - 300, der.length - 1]) {
      expectBadRequest(() => parsePkiMessage(der.subarray(0, len)));
    }
  });

  it('fail/garbage, text, a bare CSR or an EnvelopedData is BAD_REQUEST', async () => {
    const opened = await openEnvelope(
      parsePkiMessage(fixture('strongswan-pkcsreq-aes128.der')).envelope,
      peerCa,
      peer,
    );
    const inputs: Uint8Array[] = [
      new Uint8Array(randomBytes(2048)),
      new Uint8Array(Buffer.from('operation=PKIOperation&message=hello')),
      new Uint8Array([0x30, 0x80, 0x00, 0x00]),
      opened.content, // a PKCS#10, not a pkiMessage
      parsePkiMessage(fixture('strongswan-pkcsreq-aes128.der')).envelope, // ContentInfo of EnvelopedData
      fixture('micromdm-getcacert.der'),
    ];
    for (const input of inputs) expectBadRequest(() => parsePkiMessage(input));
  });

  it('ok/micromdm server CertRep: reply to the DES request, recipientNonce = request senderNonce, envelope opens with the client key', async () => {
    const request = parsePkiMessage(fixture('micromdm-pkcsreq-des.der'));
    const rep = await readCertRep(
      fixture('micromdm-pkcsreq-des.certrep-from-micromdm.der'),
      clientKey('micromdm-client.key.pem'),
      request.signerCertificate,
    );
    expect(rep.messageType).toBe(MessageType.CertRep);
    expect(rep.status).toBe(0);
    expect(rep.transactionId).toBe(request.transactionId);
    expect(Buffer.from(rep.recipientNonce).equals(Buffer.from(request.senderNonce))).toBe(true);
    expect(rep.signatureValid).toBe(true);
    expect(rep.cipher).toBe('DES-CBC');
    expect(rep.certificates[0]?.subject).toContain('CN=mm-runall');
  });
});

describe('openEnvelope on real client requests (peer CA key)', () => {
  it.each(requests)('ok/$file: $cipher decrypts to a CSR for CN=$cn with its challenge', async (f) => {
    const msg = parsePkiMessage(fixture(f.file));
    const opened = await openEnvelope(msg.envelope, peerCa, peer);
    expect(opened.cipher).toBe(f.cipher);
    const csr = parseCsr(opened.content);
    expect(csr.subjectString).toContain(`CN=${f.cn}`);
    expect(csr.challengePassword).toBe(f.challenge);
    expect(challengeTag(opened.content)).toBe(f.challengeTag);
    expect(csr.sans.map(generalNameToString)).toEqual(f.sans);
    expect(csr.key).toEqual({ type: 'RSA', bits: 2048, exponent: 65537n });
    expect(csr.verifySignature()).toBe(true);
  });

  it('ok/single DES (micromdm) decrypts in plain Node, whose OpenSSL has no DES-CBC without the legacy provider', async () => {
    const legacy = `${process.env.NODE_OPTIONS ?? ''} ${process.execArgv.join(' ')}`.includes(
      'openssl-legacy-provider',
    );
    if (!legacy) {
      expect(() => createDecipheriv('des-cbc', Buffer.alloc(8), Buffer.alloc(8))).toThrow();
    }
    const opened = await openEnvelope(
      parsePkiMessage(fixture('micromdm-pkcsreq-des.der')).envelope,
      peerCa,
      peer,
    );
    expect(opened.cipher).toBe('DES-CBC');
    expect(parseCsr(opened.content).subjectString).toContain('CN=mm-runall');
  });

  it.each(['micromdm-pkcsreq-des.der', 'strongswan-pkcsreq-3des.der', 'strongswan-pkcsreq-aes128.der'])(
    'fail/%s opened with the wrong key: EnvelopeError (or unreadable content), never a crash',
    async (file) => {
      const wrong = new LocalKey(rsaKey(2048, 'not-the-peer-ca'), 'wrong');
      const envelope = parsePkiMessage(fixture(file)).envelope;
      // Implicit rejection: a wrong key yields a random content key, so decryption fails on the
      // CBC padding, except ~1/256 of the time where it "succeeds" with garbage.
      for (let i = 0; i < 5; i++) {
        let opened: Awaited<ReturnType<typeof openEnvelope>> | undefined;
        try {
          opened = await openEnvelope(envelope, peerCa, wrong);
        } catch (e) {
          expect(e).toBeInstanceOf(EnvelopeError);
          continue;
        }
        expectBadRequest(() => parseCsr(opened.content));
      }
    },
  );

  it('fail/several recipients, none of them us: EnvelopeError "not encrypted to this server"', async () => {
    const a = await makeCert({ key: rsaKey(2048, 'not-the-peer-ca'), subject: 'CN=Other RA A' });
    const b = await makeCert({ key: rsaKey(2048, 'not-the-peer-ca'), subject: 'CN=Other RA B' });
    const client = await makeCert({ key: rsaKey(2048, 'not-the-peer-ca'), subject: 'CN=SCEP SIGNER' });
    const msg = buildPkiMessage({
      messageType: MessageType.PKCSReq,
      transactionId: 'tx',
      content: new Uint8Array(64),
      recipients: [a.cert, b.cert],
      signerKey: client.key,
      signerCert: client.cert,
    });
    const err = await openEnvelope(parsePkiMessage(msg).envelope, peerCa, peer).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EnvelopeError);
    expect((err as Error).message).toMatch(/not encrypted to this server/);
  });

  it('fail/an envelope that is not EnvelopedData is BAD_REQUEST', async () => {
    const err = await openEnvelope(fixture('micromdm-getcacert.der'), peerCa, peer).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('BAD_REQUEST');
  });
});

describe('renewal requests as real clients send them', () => {
  it('ok/micromdm RenewalReq: signed by the certificate issued for its PKCSReq, same key, same transactionID', async () => {
    const first = parsePkiMessage(fixture('micromdm-pkcsreq-des.der'));
    const renewal = parsePkiMessage(fixture('micromdm-renewalreq-des.der'));
    expect(renewal.messageType).toBe(MessageType.RenewalReq);
    expect(renewal.transactionId).toBe(first.transactionId);
    const signer = new X509Certificate(renewal.signerCertificateDer);
    expect(signer.subject).toContain('CN=mm-runall');
    expect(signer.issuer).not.toBe(signer.subject); // issued by the CA, not self-signed
    const key = clientKey('micromdm-client.key.pem');
    expect(sha256(new Uint8Array(signer.publicKey.export({ format: 'der', type: 'spki' })))).toBe(
      spkiSha256(key),
    );
    const csr = parseCsr((await openEnvelope(renewal.envelope, peerCa, peer)).content);
    expect(csr.publicKeySha256).toBe(spkiSha256(key));
  });

  it('ok/strongSwan RenewalReq: a new key in the CSR, signed by the old certificate and key', async () => {
    const renewal = parsePkiMessage(fixture('strongswan-renewalreq-3des.der'));
    expect(renewal.messageType).toBe(MessageType.RenewalReq);
    const signer = new X509Certificate(renewal.signerCertificateDer);
    expect(signer.issuer).not.toBe(signer.subject);
    const oldKey = clientKey('strongswan-enroll.key.pem');
    const newKey = clientKey('strongswan-renewed.key.pem');
    expect(sha256(new Uint8Array(signer.publicKey.export({ format: 'der', type: 'spki' })))).toBe(
      spkiSha256(oldKey),
    );
    const csr = parseCsr((await openEnvelope(renewal.envelope, peerCa, peer)).content);
    expect(csr.publicKeySha256).toBe(spkiSha256(newKey));
    expect(csr.publicKeySha256).not.toBe(spkiSha256(oldKey));
  });
});
