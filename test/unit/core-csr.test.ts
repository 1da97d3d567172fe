import 'reflect-metadata';
import { createHash, createPublicKey, sign } from 'node:crypto';
import { AsnConvert, AsnParser, OctetString } from '@peculiar/asn1-schema';
import { CertificationRequest } from '@peculiar/asn1-csr';
import {
  Extension,
  GeneralName,
  SubjectAlternativeName,
  SubjectPublicKeyInfo,
  id_ce_subjectAltName,
} from '@peculiar/asn1-x509';
import { describe, expect, it } from 'vitest';
import { kids, parseBer, raw } from '../../lib/cms/ber.js';
import { bitString, seq } from '../../lib/cms/der.js';
import { AppError } from '../../lib/errors.js';
import { parseCsr } from '../../lib/csr/parse.js';
import {
  DEFAULT_POLICY,
  allowedKeys,
  checkPolicy,
  proofOfPossession,
  subjectOrSan,
} from '../../lib/csr/policy.js';
import { generalNameToString } from '../../lib/x509/names.js';
import { ecKey, makeCsr, rsaKey, san } from '../helpers/pki.js';

/** PKCS#10 parsing (RFC 2986) and the default CSR policy. */

const INTUNE_SID = 'tag:microsoft.com,2022-09-14:sid:S-1-5-21-1-2-3-1001';
const rsa = rsaKey(2048, 'csr-rsa');

describe('parseCsr', () => {
  it.each(['printable', 'utf8', 'bmp'] as const)('ok/challengePassword as %s is read', async (enc) => {
    const csr = parseCsr(
      await makeCsr({ key: rsa, subject: 'CN=dev', challenge: 'Secret-123', challengeEncoding: enc }),
    );
    expect(csr.challengePassword).toBe('Secret-123');
  });

  it('ok/a UTF8String challenge with non-ASCII characters is read intact', async () => {
    const csr = parseCsr(
      await makeCsr({ key: rsa, subject: 'CN=dev', challenge: 'pässwörd-✓', challengeEncoding: 'utf8' }),
    );
    expect(csr.challengePassword).toBe('pässwörd-✓');
  });

  it('ok/no challengePassword → undefined', async () => {
    expect(parseCsr(await makeCsr({ key: rsa, subject: 'CN=dev' })).challengePassword).toBeUndefined();
  });

  it('ok/subjectAltName entries: DNS, email, URI (Intune sid), IP, UPN', async () => {
    const csr = parseCsr(
      await makeCsr({
        key: rsa,
        subject: 'CN=laptop-7, O=Contoso',
        sans: [
          san.dns('laptop-7.contoso.com'),
          san.email('alice@contoso.com'),
          san.uri(INTUNE_SID),
          san.ip('192.0.2.7'),
          san.upn('alice@contoso.com'),
        ],
      }),
    );
    expect(csr.subjectString).toBe('CN=laptop-7, O=Contoso');
    expect(csr.sans.map(generalNameToString)).toEqual([
      'dns:laptop-7.contoso.com',
      'email:alice@contoso.com',
      `uri:${INTUNE_SID}`,
      'ip:192.0.2.7',
      'upn:alice@contoso.com',
    ]);
    expect(csr.extensions.map((e) => e.extnID)).toEqual(['2.5.29.17']);
  });

  it('ok/RSA 2048 key info, digests of the request and the key', async () => {
    const der = await makeCsr({ key: rsa, subject: 'CN=dev' });
    const csr = parseCsr(der);
    expect(csr.key).toEqual({ type: 'RSA', bits: 2048, exponent: 65537n });
    expect(csr.sha256).toBe(createHash('sha256').update(der).digest('hex'));
    const spki = createPublicKey(rsa).export({ format: 'der', type: 'spki' });
    expect(Buffer.from(csr.spki).equals(spki)).toBe(true);
    expect(csr.publicKeySha256).toBe(createHash('sha256').update(spki).digest('hex'));
    expect(csr.signatureAlgorithm).toBe('1.2.840.113549.1.1.11');
    expect(csr.verifySignature()).toBe(true);
  });

  it.each(['P-256', 'P-384'] as const)('ok/EC %s key info and ECDSA proof of possession', async (curve) => {
    const csr = parseCsr(await makeCsr({ key: ecKey(curve), subject: 'CN=ec-device' }));
    expect(csr.key).toEqual({ type: 'EC', curve });
    expect(csr.verifySignature()).toBe(true);
  });

  it.each(['SHA-1', 'SHA-384', 'SHA-512'] as const)('ok/a CSR signed with %s verifies', async (hash) => {
    expect(parseCsr(await makeCsr({ key: rsa, subject: 'CN=dev', hash })).verifySignature()).toBe(true);
  });

  it('fail/a tampered signature → verifySignature false (RSA and EC)', async () => {
    expect(parseCsr(await makeCsr({ key: rsa, subject: 'CN=dev', tamper: true })).verifySignature()).toBe(
      false,
    );
    expect(
      parseCsr(await makeCsr({ key: ecKey('P-256'), subject: 'CN=dev', tamper: true })).verifySignature(),
    ).toBe(false);
  });

  it('fail/a CSR whose subject was changed after signing → verifySignature false', async () => {
    const der = Buffer.from(await makeCsr({ key: rsa, subject: 'CN=aaaa' }));
    const at = der.indexOf(Buffer.from('aaaa'));
    der[at] = 'b'.charCodeAt(0);
    const csr = parseCsr(new Uint8Array(der));
    expect(csr.subjectString).toBe('CN=baaa');
    expect(csr.verifySignature()).toBe(false);
  });

  it.each([
    ['empty', new Uint8Array(0)],
    ['garbage', new Uint8Array(Buffer.from('not a certificate request'))],
    ['a truncated SEQUENCE', new Uint8Array([0x30, 0x82, 0x01, 0x00, 0x30])],
  ])('fail/%s → AppError BAD_REQUEST', (_name, der) => {
    let thrown: unknown;
    try {
      parseCsr(der);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(AppError);
    expect((thrown as AppError).code).toBe('BAD_REQUEST');
  });

  it('fail/a truncated real CSR → BAD_REQUEST', async () => {
    const der = await makeCsr({ key: rsa, subject: 'CN=dev', challenge: 'x' });
    for (const len of [10, 100, der.length - 1]) {
      expect(() => parseCsr(der.subarray(0, len))).toThrow(
        expect.objectContaining({ code: 'BAD_REQUEST' }) as Error,
      );
    }
  });

  // The requested subjectAltName value is copied into the certificate as sent: an empty one
  // became an extension RFC 5280 §4.2.1.6 forbids (GeneralNames is SIZE (1..MAX)), and a dNSName
  // with a NUL (`paypal.com\0.contoso.com`, which also passes an endpoint pattern such as
  // `.*\.contoso\.com`) or a non-ASCII byte was issued as it came (IA5String is 7-bit ASCII).
  it.each([
    ['an empty subjectAltName', new Uint8Array([0x30, 0x00])],
    ['a dNSName with a NUL', sanValue(san.dns('paypal.com\u0000.contoso.com'))],
    ['a dNSName with a non-ASCII byte', sanValue(san.dns('b\u00fccher.contoso.com'))],
    ['an rfc822Name with a line break', sanValue(san.email('a@contoso.com\nb@contoso.com'))],
    // 30 80 (indefinite length) [2] "a.b" 00 00: BER, which the certificate would carry.
    ['a subjectAltName in BER', Uint8Array.from([0x30, 0x80, 0x82, 0x03, 0x61, 0x2e, 0x62, 0, 0])],
    // RFC 5280 §4.2.1.6: an iPAddress is 4 octets (IPv4) or 16 (IPv6); 8 is a name constraint.
    ['an iPAddress of 8 octets', Uint8Array.from([0x30, 0x0a, 0x87, 0x08, 10, 0, 0, 1, 255, 255, 255, 0])],
    ['an iPAddress of 3 octets', Uint8Array.from([0x30, 0x05, 0x87, 0x03, 10, 0, 0])],
    [
      'a subjectAltName with trailing bytes',
      Uint8Array.from([0x30, 0x05, 0x82, 0x03, 0x61, 0x2e, 0x62, 0xde, 0xad]),
    ],
  ])('fail/%s → BAD_REQUEST', async (_, value) => {
    const ext = new Extension({
      extnID: id_ce_subjectAltName,
      critical: false,
      extnValue: new OctetString(value),
    });
    const der = await makeCsr({ key: rsa, subject: 'CN=dev', extensions: [ext] });
    expect(() => parseCsr(der)).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }) as Error);
  });
});

// The subject and the key are copied into the certificate as the request encodes them, and the
// request's signature covers that encoding: a BER subject or key (accepted by the BER reader,
// and by OpenSSL) became a certificate that is not DER (RFC 5280 §4.1), which strict parsers
// refuse and lenient ones may read otherwise.
describe('parseCsr: what the certificate copies must be DER', () => {
  it.each([
    [
      'the subject with an indefinite length',
      1,
      (b: Buffer) => Buffer.concat([Buffer.from([0x30, 0x80]), b.subarray(2), Buffer.from([0, 0])]),
    ],
    [
      'the key with a length in too many octets',
      2,
      (b: Buffer) => Buffer.concat([Buffer.from([0x30, 0x83, 0x00]), b.subarray(2)]),
    ],
  ] as const)('fail/%s → BAD_REQUEST', async (_, index, reframe) => {
    const der = await reframedCsr(index, reframe);
    expect(() => parseCsr(der)).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }) as Error);
  });

  it('ok/the same request unchanged parses', async () => {
    expect(parseCsr(await reframedCsr(1, (b) => b)).verifySignature()).toBe(true);
  });
});

/** A CSR whose CertificationRequestInfo element `index` is re-encoded by `reframe`, then signed. */
async function reframedCsr(index: number, reframe: (element: Buffer) => Buffer): Promise<Uint8Array> {
  const csr = await makeCsr({ key: rsa, subject: 'CN=reframed' });
  const [info, alg] = kids(parseBer(csr));
  const parts = kids(info).map((k, i) => (i === index ? reframe(Buffer.from(raw(k))) : Buffer.from(raw(k))));
  const tbs = seq(...parts);
  return seq(tbs, raw(alg!), bitString(sign('sha256', tbs, rsa)));
}

function sanValue(gn: GeneralName): Uint8Array {
  return new Uint8Array(AsnConvert.serialize(new SubjectAlternativeName([gn])));
}

describe('CSR policy (DEFAULT_POLICY)', () => {
  it('ok/RSA 2048, EC P-256 and EC P-384 pass', async () => {
    expect(
      checkPolicy(parseCsr(await makeCsr({ key: rsa, subject: 'CN=ok' })), DEFAULT_POLICY),
    ).toBeUndefined();
    for (const curve of ['P-256', 'P-384'] as const) {
      expect(
        checkPolicy(parseCsr(await makeCsr({ key: ecKey(curve), subject: 'CN=ok' })), DEFAULT_POLICY),
      ).toBeUndefined();
    }
  });

  it('ok/an empty subject with a SAN passes', async () => {
    const csr = parseCsr(await makeCsr({ key: rsa, subject: '', sans: [san.dns('only-san.example')] }));
    expect(csr.subject).toHaveLength(0);
    expect(checkPolicy(csr, DEFAULT_POLICY)).toBeUndefined();
  });

  it('fail/RSA 1024 is refused key-too-small', async () => {
    const csr = parseCsr(await makeCsr({ key: rsaKey(1024, 'small'), subject: 'CN=small' }));
    expect(checkPolicy(csr, DEFAULT_POLICY)).toMatchObject({ reason: 'key-too-small' });
  });

  it('fail/EC P-521 is refused curve-not-allowed', async () => {
    const csr = parseCsr(await makeCsr({ key: ecKey('P-521'), subject: 'CN=p521' }));
    expect(csr.key).toEqual({ type: 'EC', curve: 'P-521' });
    expect(checkPolicy(csr, DEFAULT_POLICY)).toMatchObject({ reason: 'curve-not-allowed' });
  });

  it('fail/neither subject nor SAN is refused subject-missing', async () => {
    const csr = parseCsr(await makeCsr({ key: rsa, subject: '' }));
    expect(checkPolicy(csr, DEFAULT_POLICY)).toMatchObject({ reason: 'subject-missing' });
    expect(subjectOrSan(csr)).toMatchObject({ reason: 'subject-missing' });
  });

  it('fail/a tampered signature is refused csr-signature-invalid, before any other check', async () => {
    const csr = parseCsr(await makeCsr({ key: rsaKey(1024, 'small'), subject: '', tamper: true }));
    expect(checkPolicy(csr, DEFAULT_POLICY)).toMatchObject({ reason: 'csr-signature-invalid' });
    expect(proofOfPossession(csr)).toMatchObject({ reason: 'csr-signature-invalid' });
  });

  // With e = 1 a "signature" is the padded digest itself: the proof of possession of any
  // modulus verifies without a private key, and the certificate certifies a key whose
  // signatures anyone can make. RFC 8017 §3.1: 3 <= e, e odd.
  it('fail/an RSA key with public exponent 1 passes proof of possession unsigned; it is refused key-exponent-invalid', async () => {
    const csr = parseCsr(await exponentOneCsr());
    expect(csr.verifySignature()).toBe(true);
    for (const policy of [DEFAULT_POLICY, [allowedKeys({ minRsaBits: 2048, maxRsaBits: 8192, curves: [] })]])
      expect(checkPolicy(csr, policy)).toMatchObject({ reason: 'key-exponent-invalid' });
  });

  it('fail/RSA above the maximum is refused key-too-large', async () => {
    const csr = parseCsr(await makeCsr({ key: rsa, subject: 'CN=big' }));
    expect(allowedKeys({ minRsaBits: 1024, maxRsaBits: 1024, curves: [] })(csr)).toMatchObject({
      reason: 'key-too-large',
    });
  });
});

/** A CSR for an RSA modulus with e = 1, "signed" with the PKCS#1 v1.5 encoding of its digest. */
async function exponentOneCsr(): Promise<Uint8Array> {
  const req = AsnParser.parse(await makeCsr({ key: rsa, subject: 'CN=e1' }), CertificationRequest);
  const jwk = createPublicKey(rsa).export({ format: 'jwk' });
  const spki = createPublicKey({ key: { ...jwk, e: 'AQ' }, format: 'jwk' }).export({
    format: 'der',
    type: 'spki',
  });
  req.certificationRequestInfo.subjectPKInfo = AsnParser.parse(spki, SubjectPublicKeyInfo);
  const info = AsnConvert.serialize(req.certificationRequestInfo);
  const digestInfo = Buffer.concat([
    Buffer.from('3031300d060960864801650304020105000420', 'hex'),
    createHash('sha256').update(Buffer.from(info)).digest(),
  ]);
  const em = Buffer.concat([
    Buffer.from([0, 1]),
    Buffer.alloc(256 - 3 - digestInfo.length, 0xff),
    Buffer.from([0]),
    digestInfo,
  ]);
  req.signature = new Uint8Array(em).buffer;
  return new Uint8Array(AsnConvert.serialize(req));
}
