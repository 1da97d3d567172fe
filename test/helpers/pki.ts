import 'reflect-metadata';
import { createPrivateKey, generateKeyPairSync, type KeyObject, X509Certificate } from 'node:crypto';
import { AsnConvert, AsnParser, OctetString } from '@peculiar/asn1-schema';
import { CertificationRequest } from '@peculiar/asn1-csr';
import { buildCsr, type ChallengeEncoding } from '../../lib/csr/build.js';
export type { ChallengeEncoding } from '../../lib/csr/build.js';
import {
  AuthorityKeyIdentifier,
  Certificate,
  Extension,
  Extensions,
  GeneralName,
  KeyIdentifier,
  OtherName,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
  id_ce_authorityKeyIdentifier,
} from '@peculiar/asn1-x509';
import * as asn1js from 'asn1js';
import { parseName } from '../../lib/ca/root.js';
import { keyIdentifier } from '../../lib/ca/extensions.js';
import { randomSerial, signatureAlgorithm, signTbs } from '../../lib/ca/sign.js';
import { LocalKey } from '../../lib/keys/local.js';
import type { HashAlgorithm } from '../../lib/keys/types.js';

/** Test PKI: keys, certificates and PKCS#10 requests built independently of the issuance code. */

const keyCache = new Map<string, KeyObject>();

/** An RSA key; `name` reuses one key per name within a test file (RSA keygen is slow). */
export function rsaKey(bits = 2048, name?: string): KeyObject {
  const id = name === undefined ? undefined : `${name}/${bits}`;
  const cached = id === undefined ? undefined : keyCache.get(id);
  if (cached) return cached;
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  if (id !== undefined) keyCache.set(id, privateKey);
  return privateKey;
}

export function ecKey(curve: 'P-256' | 'P-384' | 'P-521'): KeyObject {
  const named = { 'P-256': 'prime256v1', 'P-384': 'secp384r1', 'P-521': 'secp521r1' }[curve];
  return generateKeyPairSync('ec', { namedCurve: named }).privateKey;
}

export function keyFromPem(pem: string | Buffer): KeyObject {
  return createPrivateKey(pem);
}

export interface TestCert {
  readonly der: Uint8Array;
  readonly cert: Certificate;
  readonly key: KeyObject;
  readonly x509: X509Certificate;
}

/** A certificate for `key`, self-signed unless `issuer` is given. */
export async function makeCert(o: {
  key: KeyObject;
  subject: string;
  issuer?: TestCert;
  notBefore?: Date;
  notAfter?: Date;
  /** Windows' self-signed request signer carries a critical AuthorityKeyIdentifier. */
  criticalAki?: boolean;
}): Promise<TestCert> {
  const subjectKey = new LocalKey(o.key, 'test');
  const signer = o.issuer ? new LocalKey(o.issuer.key, 'issuer') : subjectKey;
  const issuerName = o.issuer ? o.issuer.cert.tbsCertificate.subject : parseName(o.subject);
  const extensions = new Extensions(
    o.criticalAki
      ? [
          new Extension({
            extnID: id_ce_authorityKeyIdentifier,
            critical: true,
            extnValue: new OctetString(
              AsnConvert.serialize(
                new AuthorityKeyIdentifier({
                  keyIdentifier: new KeyIdentifier(keyIdentifier(signer.publicKeySpki)),
                }),
              ),
            ),
          }),
        ]
      : [],
  );
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: randomSerial().buffer as ArrayBuffer,
    signature: signatureAlgorithm(signer.keyType, 'SHA-256'),
    issuer: issuerName,
    validity: new Validity({
      notBefore: o.notBefore ?? new Date(Date.now() - 3600_000),
      notAfter: o.notAfter ?? new Date(Date.now() + 86_400_000),
    }),
    subject: parseName(o.subject),
    subjectPublicKeyInfo: AsnParser.parse(subjectKey.publicKeySpki, SubjectPublicKeyInfo),
    ...(extensions.length > 0 ? { extensions } : {}),
  });
  const der = await signTbs(tbs, signer, 'SHA-256');
  return { der, cert: AsnParser.parse(der, Certificate), key: o.key, x509: new X509Certificate(der) };
}

/** A PKCS#10 request, signed with `key` (PKCS#1 v1.5 or ECDSA, SHA-256 unless told). */
export async function makeCsr(o: {
  key: KeyObject;
  subject: string;
  sans?: GeneralName[];
  challenge?: string;
  challengeEncoding?: ChallengeEncoding;
  hash?: HashAlgorithm;
  /** Corrupt the signature (proof-of-possession failure). */
  tamper?: boolean;
  /** Further requested extensions (extensionRequest). */
  extensions?: Extension[];
}): Promise<Uint8Array> {
  const signer = new LocalKey(o.key, 'csr');
  const der = await buildCsr({ ...o, signer });
  if (!o.tamper) return der;
  const req = AsnParser.parse(der, CertificationRequest);
  const sig = new Uint8Array(req.signature.slice(0));
  sig[sig.length - 1] = (sig[sig.length - 1] ?? 0) ^ 0xff;
  req.signature = sig.buffer;
  return new Uint8Array(AsnConvert.serialize(req));
}

export const san = {
  dns: (v: string) => new GeneralName({ dNSName: v }),
  email: (v: string) => new GeneralName({ rfc822Name: v }),
  uri: (v: string) => new GeneralName({ uniformResourceIdentifier: v }),
  ip: (v: string) => new GeneralName({ iPAddress: v }),
  /** Microsoft UPN otherName: `[0] EXPLICIT UTF8String` (the schema adds the [0]). */
  upn: (v: string) =>
    new GeneralName({
      otherName: new OtherName({
        typeId: '1.3.6.1.4.1.311.20.2.3',
        value: new asn1js.Utf8String({ value: v }).toBER(),
      }),
    }),
};
