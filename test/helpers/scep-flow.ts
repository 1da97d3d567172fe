import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AsnConvert, AsnParser } from '@peculiar/asn1-schema';
import { Certificate, Name } from '@peculiar/asn1-x509';
import { expect } from 'vitest';
import { getApp } from '../../lib/app.js';
import { seq } from '../../lib/cms/der.js';
import { parseName } from '../../lib/ca/root.js';
import type { CertificateRecord } from '../../lib/store/types.js';
import type { TestHost } from './host.js';
import { makeCert, rsaKey, type TestCert } from './pki.js';
import { MessageType } from '../../lib/scep/types.js';
import { buildPkiMessage, readCertRep, type CertRep } from './scep-client.js';

/** Shared steps of the SCEP integration tests: client identities, PKIOperation round trips, store look-ups. */

export interface ScepClientIdentity {
  readonly key: KeyObject;
  /** The certificate that signs the pkiMessage (self-signed for a first enrollment). */
  readonly signer: TestCert;
}

/** A client key (cached by name) and a self-signed request signer, as micromdm scepclient makes one. */
export async function selfSignedClient(
  name: string,
  o: { bits?: number; subject?: string; criticalAki?: boolean } = {},
): Promise<ScepClientIdentity> {
  const key = rsaKey(o.bits ?? 2048, name);
  const signer = await makeCert({
    key,
    subject: o.subject ?? 'CN=SCEP SIGNER, O=Test',
    criticalAki: o.criticalAki ?? false,
  });
  return { key, signer };
}

/** POST a pkiMessage and return the raw CertRep, asserting the RFC 8894 §4.3 response shape. */
export async function postPkiOperation(
  host: TestHost,
  msg: Uint8Array,
  path = '/scep/static',
): Promise<Uint8Array> {
  const res = await host.post(`${path}?operation=PKIOperation`, msg);
  const body = new Uint8Array(await res.arrayBuffer());
  expect(res.status, Buffer.from(body).toString('utf8').slice(0, 300)).toBe(200);
  expect(res.headers.get('content-type')).toBe('application/x-pki-message');
  return body;
}

/** POST a pkiMessage and read the CertRep with the requester's key and certificate. */
export async function pkiOperation(
  host: TestHost,
  msg: Uint8Array,
  requester: { key: KeyObject; cert: Certificate },
): Promise<CertRep> {
  return readCertRep(await postPkiOperation(host, msg), requester.key, requester.cert);
}

/** Records of the in-process host's store for a SCEP transactionID. */
export async function recordsForTransaction(transactionId: string): Promise<CertificateRecord[]> {
  const app = await getApp();
  const { items } = await app.store.search({ limit: 100_000 });
  return items.filter((r) => r.transactionId === transactionId);
}

/** The host's CA as a TestCert (its key read from the data folder), to craft certificates it never issued. */
export function hostCa(host: TestHost): TestCert {
  const key = createPrivateKey(readFileSync(join(host.dataDir, 'ca', 'ca.key.pem')));
  const der = new Uint8Array(AsnConvert.serialize(host.ca));
  return { der, cert: host.ca, key, x509: new X509Certificate(der) };
}

/** A certificate for `key` signed by `issuer`, with the given validity. */
export function issuedBy(
  issuer: TestCert,
  key: KeyObject,
  subject: string,
  notBefore?: Date,
  notAfter?: Date,
): Promise<TestCert> {
  return makeCert({
    key,
    subject,
    issuer,
    ...(notBefore ? { notBefore } : {}),
    ...(notAfter ? { notAfter } : {}),
  });
}

/** IssuerAndSubject (RFC 8894 §3.3.3), the content of a CertPoll: SEQUENCE { issuer Name, subject Name }. */
export function issuerAndSubject(issuer: Certificate, subject: string): Uint8Array {
  return seq(
    new Uint8Array(AsnConvert.serialize(issuer.tbsCertificate.subject)),
    new Uint8Array(AsnConvert.serialize(AsnParser.parse(AsnConvert.serialize(parseName(subject)), Name))),
  );
}

/** A PKCSReq for `csr`, encrypted to the host's CA and signed by `signer`. */
export function pkcsReq(
  host: TestHost,
  signer: ScepClientIdentity,
  transactionId: string,
  csr: Uint8Array,
): Uint8Array {
  return buildPkiMessage({
    messageType: MessageType.PKCSReq,
    transactionId,
    content: csr,
    recipients: [host.ca],
    signerKey: signer.key,
    signerCert: signer.signer.cert,
  });
}
