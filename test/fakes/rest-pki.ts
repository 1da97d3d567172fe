import 'reflect-metadata';
import { createHash, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
type CryptoKeyPair = webcrypto.CryptoKeyPair;
import type { Authorization } from '../../lib/challenge/types.js';
import type { CertificateRecord, CertificateStatus } from '../../lib/store/types.js';

/** Test CSRs, CAs and issued certificates made with @peculiar/x509 on Node's WebCrypto. */
x509.cryptoProvider.set(webcrypto);

const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const RSA = {
  name: 'RSASSA-PKCS1-v1_5',
  hash: 'SHA-256',
  publicExponent: new Uint8Array([1, 0, 1]),
  modulusLength: 2048,
} as const;

export type San = x509.JsonGeneralName;

export const newEcKeys = (): Promise<CryptoKeyPair> =>
  webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']);

export async function makeCsr(
  subject: string,
  sans: readonly San[] = [],
  keys?: CryptoKeyPair,
): Promise<Uint8Array> {
  const k = keys ?? (await newEcKeys());
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: subject,
    keys: k,
    signingAlgorithm: EC,
    extensions: sans.length > 0 ? [new x509.SubjectAlternativeNameExtension([...sans])] : [],
  });
  return new Uint8Array(csr.rawData);
}

export interface TestCa {
  readonly cert: x509.X509Certificate;
  readonly der: Uint8Array;
  readonly keys: CryptoKeyPair;
}

export async function makeCa(subject: string): Promise<TestCa> {
  const keys = await webcrypto.subtle.generateKey(RSA, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: subject,
    keys,
    signingAlgorithm: RSA,
    notBefore: new Date('2024-01-01T00:00:00Z'),
    notAfter: new Date('2034-01-01T00:00:00Z'),
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert, der: new Uint8Array(cert.rawData), keys };
}

export interface IssueOptions {
  readonly subject: string;
  readonly sans?: readonly San[];
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  readonly serialNumber?: string;
  /** Sign with these keys instead of the CA's, keeping the CA's name as issuer (forgery). */
  readonly signingKeys?: CryptoKeyPair;
}

export async function issue(ca: TestCa, o: IssueOptions): Promise<x509.X509Certificate> {
  const leaf = await newEcKeys();
  return x509.X509CertificateGenerator.create({
    serialNumber:
      o.serialNumber ??
      Buffer.from(webcrypto.getRandomValues(new Uint8Array(16)))
        .toString('hex')
        .replace(/^[89a-f]/, '1'),
    subject: o.subject,
    issuer: ca.cert.subject,
    notBefore: o.notBefore ?? new Date('2025-01-01T00:00:00Z'),
    notAfter: o.notAfter ?? new Date('2026-01-01T00:00:00Z'),
    publicKey: leaf.publicKey,
    signingKey: (o.signingKeys ?? ca.keys).privateKey,
    signingAlgorithm: RSA,
    extensions: [
      new x509.BasicConstraintsExtension(false),
      await x509.AuthorityKeyIdentifierExtension.create(ca.keys.publicKey),
      ...(o.sans && o.sans.length > 0 ? [new x509.SubjectAlternativeNameExtension([...o.sans])] : []),
    ],
  });
}

/** The store record the issuance path would have written for `cert`. */
export function recordFor(
  cert: x509.X509Certificate,
  authorization: Authorization,
  status: CertificateStatus = 'issued',
): CertificateRecord {
  const der = new Uint8Array(cert.rawData);
  const hash = (alg: string): string => createHash(alg).update(der).digest('hex').toUpperCase();
  const sanExt = cert.getExtension(x509.SubjectAlternativeNameExtension);
  return {
    serialNumber: cert.serialNumber.toLowerCase().replace(/^(00)+(?=.)/, ''),
    thumbprintSha1: hash('sha1'),
    thumbprintSha256: hash('sha256'),
    subject: cert.subject,
    sans: sanExt ? sanExt.names.items.map((n) => `${n.type}:${n.value}`) : [],
    issuer: cert.issuer,
    notBefore: cert.notBefore.toISOString(),
    notAfter: cert.notAfter.toISOString(),
    endpoint: 'api',
    authorization,
    publicKeySha256: createHash('sha256').update(new Uint8Array(cert.publicKey.rawData)).digest('hex'),
    status,
    der: Buffer.from(der).toString('base64'),
    createdAt: cert.notBefore.toISOString(),
  };
}
