import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { createHash, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AsnParser } from '@peculiar/asn1-schema';
import {
  AuthorityKeyIdentifier,
  BasicConstraints,
  Certificate,
  ExtendedKeyUsage,
  Extension,
  KeyUsage,
  KeyUsageFlags,
  SubjectAlternativeName,
  SubjectKeyIdentifier,
  id_ce_authorityKeyIdentifier,
  id_ce_basicConstraints,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  id_ce_subjectAltName,
  id_ce_subjectKeyIdentifier,
} from '@peculiar/asn1-x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicConstraints } from '../../lib/ca/extensions.js';
import { CertificateIssuer, type IssuanceProfile } from '../../lib/ca/issue.js';
import { createRootCertificate } from '../../lib/ca/root.js';
import { CLIENT_AUTH_EKU } from '../../lib/config/core.js';
import { parseCsr } from '../../lib/csr/parse.js';
import { LocalKey } from '../../lib/keys/local.js';
import type { CaKeys } from '../../lib/keys/types.js';
import { generalNameToString } from '../../lib/x509/names.js';
import { ecKey, makeCert, makeCsr, rsaKey, san } from '../helpers/pki.js';
import { requireTools } from '../helpers/tools.js';

/** Issuance (issue 2 §6): what goes into an end-entity certificate, checked independently. */

const NOW = new Date('2026-03-01T12:00:00.000Z');
const DAY = 86_400_000;
const INTUNE_SID = 'tag:microsoft.com,2022-09-14:sid:S-1-5-21-1-2-3-1001';
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const SMARTCARD_LOGON = '1.3.6.1.4.1.311.20.2.2';
const DEFAULT_PROFILE: IssuanceProfile = {
  validityDays: 365,
  keyUsage: ['DigitalSignature', 'KeyEncipherment'],
  ekus: [CLIENT_AUTH_EKU],
};
const hasOpenssl = requireTools('openssl').available;

const caKey = rsaKey(2048, 'issuer-ca');
const clientKey = rsaKey(2048, 'issuer-client');
let ca: CaKeys;
let caX509: X509Certificate;
let issuer: CertificateIssuer;
let tmp: string;

beforeAll(async () => {
  const local = new LocalKey(caKey, 'ca');
  const der = await createRootCertificate({
    signer: local,
    subject: 'CN=Issuer Test CA, O=Test',
    days: 3650,
    now: new Date(NOW.getTime() - DAY),
  });
  ca = { certificateDer: der, chainDer: [], signer: local, decrypter: local };
  caX509 = new X509Certificate(der);
  issuer = new CertificateIssuer(ca, { clockSkewMinutes: 90 });
  tmp = mkdtempSync(join(tmpdir(), 'issuer-test-'));
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

function ext<T>(
  cert: Certificate,
  oid: string,
  type: new () => T,
): { critical: boolean; value: T } | undefined {
  const e = cert.tbsCertificate.extensions?.find((x) => x.extnID === oid);
  return e ? { critical: e.critical, value: AsnParser.parse(e.extnValue, type) } : undefined;
}

/** RFC 5280 §4.2.1.2 (1), computed from Node's own export of the key: SHA-1 of the subjectPublicKey bits. */
function expectedSki(key: KeyObject): string {
  const pub = createPublicKey(key);
  let bits: Buffer;
  if (pub.asymmetricKeyType === 'rsa') bits = pub.export({ format: 'der', type: 'pkcs1' });
  else {
    const jwk = pub.export({ format: 'jwk' });
    bits = Buffer.concat([
      Buffer.from([4]),
      Buffer.from(jwk.x!, 'base64url'),
      Buffer.from(jwk.y!, 'base64url'),
    ]);
  }
  return createHash('sha1').update(bits).digest('hex');
}

function openssl(args: string[], input?: Uint8Array): string {
  return execFileSync('openssl', args, { input, encoding: 'utf8' });
}

async function issueFor(o: Parameters<typeof makeCsr>[0], profile = DEFAULT_PROFILE, now = NOW) {
  const issued = await issuer.issue(parseCsr(await makeCsr(o)), profile, now);
  return { issued, x509: new X509Certificate(issued.der), cert: AsnParser.parse(issued.der, Certificate) };
}

describe('CertificateIssuer.issue', () => {
  it('ok/subject and every SAN kind come from the CSR (Intune sid URI and UPN otherName included)', async () => {
    const sans = [
      san.dns('pc-1.contoso.com'),
      san.email('bob@contoso.com'),
      san.uri(INTUNE_SID),
      san.ip('192.0.2.10'),
      san.upn('bob@contoso.com'),
    ];
    const { issued, x509, cert } = await issueFor({
      key: clientKey,
      subject: 'CN=pc-1, OU=Devices, O=Contoso',
      sans,
    });
    expect(x509.subject.split('\n')).toEqual(['CN=pc-1', 'OU=Devices', 'O=Contoso']);
    expect(issued.subject).toBe('CN=pc-1, OU=Devices, O=Contoso');
    expect(issued.sans).toEqual([
      'dns:pc-1.contoso.com',
      'email:bob@contoso.com',
      `uri:${INTUNE_SID}`,
      'ip:192.0.2.10',
      'upn:bob@contoso.com',
    ]);
    expect(x509.subjectAltName).toContain('DNS:pc-1.contoso.com');
    expect(x509.subjectAltName).toContain('email:bob@contoso.com');
    // Node quotes the URI and escapes its comma: "tag:microsoft.com\u002c2022-09-14:sid:…".
    expect(x509.subjectAltName).toContain('2022-09-14:sid:S-1-5-21-1-2-3-1001');
    expect(x509.subjectAltName).toContain('IP Address:192.0.2.10');
    expect(x509.subjectAltName).toContain('othername:UPN:bob@contoso.com');
    const sanExt = ext(cert, id_ce_subjectAltName, SubjectAlternativeName)!;
    expect(sanExt.critical).toBe(false);
    expect(sanExt.value.map(generalNameToString)).toEqual(issued.sans);
    expect(
      x509.publicKey
        .export({ format: 'der', type: 'spki' })
        .equals(createPublicKey(clientKey).export({ format: 'der', type: 'spki' })),
    ).toBe(true);
  });

  it('ok/default profile: KU digitalSignature+keyEncipherment (critical), EKU clientAuth, CA:false critical', async () => {
    const { cert } = await issueFor({ key: clientKey, subject: 'CN=defaults' });
    const ku = ext(cert, id_ce_keyUsage, KeyUsage)!;
    expect(ku.critical).toBe(true);
    expect(ku.value.toNumber()).toBe(KeyUsageFlags.digitalSignature | KeyUsageFlags.keyEncipherment);
    const eku = ext(cert, id_ce_extKeyUsage, ExtendedKeyUsage)!;
    expect([...eku.value]).toEqual([CLIENT_AUTH_EKU]);
    const bc = ext(cert, id_ce_basicConstraints, BasicConstraints)!;
    expect(bc.critical).toBe(true);
    expect(bc.value.cA).toBe(false);
    expect(cert.tbsCertificate.version).toBe(2); // v3
  });

  it('ok/key usage and EKUs from the profile; none at all when the profile lists none', async () => {
    const custom = await issueFor(
      { key: clientKey, subject: 'CN=custom' },
      { validityDays: 30, keyUsage: ['DigitalSignature'], ekus: [SERVER_AUTH, SMARTCARD_LOGON] },
    );
    expect(ext(custom.cert, id_ce_keyUsage, KeyUsage)!.value.toNumber()).toBe(KeyUsageFlags.digitalSignature);
    expect([...ext(custom.cert, id_ce_extKeyUsage, ExtendedKeyUsage)!.value]).toEqual([
      SERVER_AUTH,
      SMARTCARD_LOGON,
    ]);
    const bare = await issueFor(
      { key: clientKey, subject: 'CN=bare' },
      { validityDays: 30, keyUsage: [], ekus: [] },
    );
    expect(ext(bare.cert, id_ce_keyUsage, KeyUsage)).toBeUndefined();
    expect(ext(bare.cert, id_ce_extKeyUsage, ExtendedKeyUsage)).toBeUndefined();
  });

  it('ok/extensions the requester asks for (CA:true, its own KU/EKU) are not copied', async () => {
    const askForCa = new Extension({
      extnID: id_ce_basicConstraints,
      critical: true,
      extnValue: basicConstraints(true).extnValue,
    });
    const { cert } = await issueFor({ key: clientKey, subject: 'CN=wants-ca', extensions: [askForCa] });
    expect(ext(cert, id_ce_basicConstraints, BasicConstraints)!.value.cA).toBe(false);
    expect(cert.tbsCertificate.extensions?.filter((e) => e.extnID === id_ce_basicConstraints)).toHaveLength(
      1,
    );
  });

  it('ok/SKI is the SHA-1 of the subject key, AKI is the CA SKI', async () => {
    const { cert } = await issueFor({ key: clientKey, subject: 'CN=ids' });
    const ski = ext(cert, id_ce_subjectKeyIdentifier, SubjectKeyIdentifier)!;
    expect(ski.critical).toBe(false);
    expect(Buffer.from(ski.value.buffer).toString('hex')).toBe(expectedSki(clientKey));
    const caSki = ext(
      AsnParser.parse(ca.certificateDer, Certificate),
      id_ce_subjectKeyIdentifier,
      SubjectKeyIdentifier,
    )!;
    expect(Buffer.from(caSki.value.buffer).toString('hex')).toBe(expectedSki(caKey));
    const aki = ext(cert, id_ce_authorityKeyIdentifier, AuthorityKeyIdentifier)!;
    expect(Buffer.from(aki.value.keyIdentifier!.buffer).toString('hex')).toBe(expectedSki(caKey));
  });

  it('ok/notBefore is backdated by clockSkewMinutes; notAfter is now + validityDays', async () => {
    const { issued, cert } = await issueFor(
      { key: clientKey, subject: 'CN=validity' },
      { ...DEFAULT_PROFILE, validityDays: 30 },
    );
    expect(cert.tbsCertificate.validity.notBefore.getTime().getTime()).toBe(NOW.getTime() - 90 * 60_000);
    expect(cert.tbsCertificate.validity.notAfter.getTime().getTime()).toBe(NOW.getTime() + 30 * DAY);
    expect(issued.notBefore.getTime()).toBe(NOW.getTime() - 90 * 60_000);
    expect(issued.notAfter.getTime()).toBe(NOW.getTime() + 30 * DAY);
  });

  it('ok/clockSkewMinutes 0 → notBefore is now', async () => {
    const noSkew = new CertificateIssuer(ca, { clockSkewMinutes: 0 });
    const issued = await noSkew.issue(
      parseCsr(await makeCsr({ key: clientKey, subject: 'CN=now' })),
      DEFAULT_PROFILE,
      NOW,
    );
    expect(issued.notBefore.getTime()).toBe(NOW.getTime());
  });

  it('ok/notAfter is capped at the CA notAfter', async () => {
    const { issued } = await issueFor(
      { key: clientKey, subject: 'CN=long' },
      { ...DEFAULT_PROFILE, validityDays: 20_000 },
    );
    expect(issued.notAfter.getTime()).toBe(new Date(caX509.validTo).getTime());
  });

  it('ok/serials are positive and 16 bytes; 1,000 issued certificates have 1,000 distinct serials', async () => {
    const csr = parseCsr(await makeCsr({ key: clientKey, subject: 'CN=serials' }));
    const certs = await Promise.all(
      Array.from({ length: 1000 }, () => issuer.issue(csr, DEFAULT_PROFILE, NOW)),
    );
    const serials = new Set(certs.map((c) => c.serialNumber));
    expect(serials.size).toBe(1000);
    for (const c of certs.slice(0, 50)) {
      const raw = new Uint8Array(c.certificate.tbsCertificate.serialNumber);
      expect(raw).toHaveLength(16);
      expect(raw[0]! & 0x80).toBe(0);
      expect(raw[0]).not.toBe(0);
      expect(new X509Certificate(c.der).serialNumber.toLowerCase()).toBe(c.serialNumber);
    }
  });

  it('ok/an EC P-256 client key is certified as is', async () => {
    const key = ecKey('P-256');
    const { x509, cert } = await issueFor({ key, subject: 'CN=ec-client' });
    expect(x509.publicKey.asymmetricKeyType).toBe('ec');
    expect(x509.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(
      Buffer.from(ext(cert, id_ce_subjectKeyIdentifier, SubjectKeyIdentifier)!.value.buffer).toString('hex'),
    ).toBe(expectedSki(key));
    expect(x509.verify(caX509.publicKey)).toBe(true);
  });

  it('ok/an EC key gets no keyEncipherment even when the profile lists it (RFC 5480 §3)', async () => {
    const { cert } = await issueFor({ key: ecKey('P-256'), subject: 'CN=ec-ku' });
    const ku = ext(cert, id_ce_keyUsage, KeyUsage)!;
    expect(ku.critical).toBe(true);
    expect(ku.value.toNumber() & KeyUsageFlags.keyEncipherment).toBe(0);
    expect(ku.value.toNumber() & KeyUsageFlags.digitalSignature).toBe(KeyUsageFlags.digitalSignature);
  });

  it('ok/an empty subject makes the SAN critical (RFC 5280 §4.2.1.6)', async () => {
    const { cert } = await issueFor({ key: clientKey, subject: '', sans: [san.dns('no-subject.example')] });
    expect(cert.tbsCertificate.subject).toHaveLength(0);
    expect(ext(cert, id_ce_subjectAltName, SubjectAlternativeName)!.critical).toBe(true);
  });

  it('ok/signed by the CA with sha256WithRSAEncryption, issuer = CA subject', async () => {
    const { x509, cert } = await issueFor({ key: clientKey, subject: 'CN=sig' });
    expect(cert.signatureAlgorithm.algorithm).toBe('1.2.840.113549.1.1.11');
    expect(x509.issuer).toBe(caX509.subject);
    expect(x509.checkIssued(caX509)).toBe(true);
    expect(x509.verify(caX509.publicKey)).toBe(true);
  });

  it('ok/issuedByUs: true for our certificates, false for a look-alike signed by another key', async () => {
    const { cert } = await issueFor({ key: clientKey, subject: 'CN=ours' });
    expect(issuer.issuedByUs(cert)).toBe(true);
    const impostorCa = await makeCert({ key: clientKey, subject: 'CN=Issuer Test CA, O=Test' });
    const lookalike = await makeCert({ key: clientKey, subject: 'CN=ours', issuer: impostorCa });
    expect(lookalike.x509.issuer).toBe(caX509.subject);
    expect(issuer.issuedByUs(lookalike.cert)).toBe(false);
    const selfSigned = await makeCert({ key: clientKey, subject: 'CN=SCEP SIGNER' });
    expect(issuer.issuedByUs(selfSigned.cert)).toBe(false);
  });
});

describe.skipIf(!hasOpenssl)(
  `issued certificates seen by openssl${hasOpenssl ? '' : ' (skipped: openssl is not installed)'}`,
  () => {
    it('ok/openssl x509 -text shows the subject, SANs (UPN othername, sid URI), KU, EKU, CA:FALSE and key ids', async () => {
      const { x509 } = await issueFor({
        key: clientKey,
        subject: 'CN=openssl-view, O=Contoso',
        sans: [
          san.dns('v.contoso.com'),
          san.uri(INTUNE_SID),
          san.upn('carol@contoso.com'),
          san.ip('2001:db8::7'),
        ],
      });
      const text = openssl(['x509', '-noout', '-text', '-nameopt', 'RFC2253'], Buffer.from(x509.toString()));
      expect(text).toMatch(/Subject: O=Contoso,CN=openssl-view/);
      expect(text).toMatch(/X509v3 Basic Constraints: critical\s+CA:FALSE/);
      expect(text).toMatch(/X509v3 Key Usage: critical\s+Digital Signature, Key Encipherment/);
      expect(text).toMatch(/X509v3 Extended Key Usage:\s+TLS Web Client Authentication/);
      expect(text).toContain('DNS:v.contoso.com');
      expect(text).toContain(`URI:${INTUNE_SID}`);
      expect(text).toMatch(/othername: ?UPN::?carol@contoso.com/i);
      expect(text).toContain('IP Address:2001:DB8:0:0:0:0:0:7');
      expect(text).toMatch(/X509v3 Subject Key Identifier/);
      expect(text).toMatch(/X509v3 Authority Key Identifier/);
    });

    it('ok/openssl verify -x509_strict -purpose sslclient accepts the chain at the issuance time', async () => {
      const { x509 } = await issueFor({
        key: clientKey,
        subject: 'CN=strict',
        sans: [san.dns('strict.example')],
      });
      const caFile = join(tmp, 'ca.pem');
      const leafFile = join(tmp, 'leaf.pem');
      writeFileSync(caFile, caX509.toString());
      writeFileSync(leafFile, x509.toString());
      const at = String(Math.floor(NOW.getTime() / 1000));
      const out = openssl([
        'verify',
        '-x509_strict',
        '-purpose',
        'sslclient',
        '-attime',
        at,
        '-CAfile',
        caFile,
        leafFile,
      ]);
      expect(out).toContain(`${leafFile}: OK`);
    });
  },
);
