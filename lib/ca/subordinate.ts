import 'reflect-metadata';
import { X509Certificate } from 'node:crypto';
import { ContentInfo, SignedData, id_signedData } from '@peculiar/asn1-cms';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate, KeyUsage, KeyUsageFlags, id_ce_keyUsage } from '@peculiar/asn1-x509';
import { AppError, badRequest } from '../errors.js';

/**
 * A CA certificate signed by an external (enterprise) parent for a key we hold, as the operator
 * hands it back: the certificate, optionally with its chain, in any order. Shared by the first
 * CA (`npm run ca -- import`) and the next CA (CLI and management API), with Key Vault or local
 * keys alike.
 */
export interface SubordinateCertificate {
  readonly certificateDer: Uint8Array;
  /** Its issuers among what was given, nearest first, each verified to have signed the one below. */
  readonly chainDer: Uint8Array[];
}

interface Parsed {
  readonly der: Uint8Array;
  readonly x: X509Certificate;
}

/**
 * Pick the certificate for the pending key (SubjectPublicKeyInfo `spki`) and check that it can
 * be a CA: basicConstraints cA=TRUE and, when keyUsage is present, keyCertSign (RFC 5280
 * §4.2.1.3, §4.2.1.9), valid at `now`. BAD_REQUEST names what is wrong; nothing is written.
 */
export function chooseSubordinate(
  certs: readonly Uint8Array[],
  spki: Uint8Array,
  now: Date,
): SubordinateCertificate {
  const parsed = certs.map((der, i) => ({ der, x: parse(der, i + 1) }));
  const key = Buffer.from(spki);
  const ca = parsed.find((c) => key.equals(c.x.publicKey.export({ format: 'der', type: 'spki' })));
  if (ca === undefined)
    throw new AppError('BAD_REQUEST', 'none of the certificates is for the pending key', {
      detail: { reason: 'key-mismatch' },
    });
  if (!mayCertify(ca.der))
    throw new AppError('BAD_REQUEST', 'the signed certificate has keyUsage without keyCertSign', {
      detail: { reason: 'not-a-ca' },
    });
  if (!ca.x.ca)
    throw new AppError(
      'BAD_REQUEST',
      'the signed certificate is not a CA certificate (basicConstraints cA is not TRUE)',
      { detail: { reason: 'not-a-ca' } },
    );
  if (new Date(ca.x.validTo) <= now)
    throw new AppError('BAD_REQUEST', `the signed certificate expired on ${ca.x.validTo}`, {
      detail: { reason: 'expired' },
    });
  return { certificateDer: ca.der, chainDer: orderChain(ca, parsed) };
}

/** Whether `certs` holds the certificate `der` (an import repeated after it succeeded). */
export function chainAbove(der: Uint8Array, certs: readonly Uint8Array[]): Uint8Array[] | undefined {
  const all = certs.map((c, i) => ({ der: c, x: parse(c, i + 1) }));
  const same = all.find((c) => Buffer.from(c.der).equals(Buffer.from(der)));
  return same && orderChain(same, all);
}

/**
 * Certificates as operators receive them from a parent CA: PEM (one or more CERTIFICATE
 * blocks), one DER certificate, or a certs-only PKCS#7 (`.p7b`, DER or PEM `PKCS7`), as
 * Active Directory Certificate Services hands out a chain.
 */
export function certificatesIn(bytes: Uint8Array): Uint8Array[] {
  if (bytes.length === 0) throw badRequest('no certificate: send the signed CA certificate (PEM or DER)');
  if (bytes[0] === 0x30) return derCertificates(bytes);
  const text = Buffer.from(bytes).toString('latin1').replace(/\\n/g, '\n');
  const blocks = [...text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g)];
  const out = blocks.flatMap(([, label, body]) => {
    const der = new Uint8Array(Buffer.from((body ?? '').replace(/\s+/g, ''), 'base64'));
    if (label === 'CERTIFICATE') return [der];
    if (label === 'PKCS7' || label === 'CMS') return pkcs7Certificates(der);
    return [];
  });
  if (out.length === 0)
    throw badRequest('no certificate found: expected PEM CERTIFICATE blocks, a DER certificate or PKCS#7');
  out.forEach((der, i) => parse(der, i + 1));
  return out;
}

function derCertificates(der: Uint8Array): Uint8Array[] {
  try {
    parse(der, 1);
    return [der];
  } catch {
    return pkcs7Certificates(der);
  }
}

function pkcs7Certificates(der: Uint8Array): Uint8Array[] {
  let sd: SignedData;
  try {
    const ci = AsnConvert.parse(der, ContentInfo);
    if (ci.contentType !== id_signedData) throw new Error(ci.contentType);
    sd = AsnConvert.parse(ci.content, SignedData);
  } catch (e) {
    throw badRequest('the body is neither a certificate nor a PKCS#7 certificate bundle', e);
  }
  const out = Array.from(sd.certificates ?? [], (c) =>
    c.certificate ? new Uint8Array(AsnConvert.serialize(c.certificate)) : undefined,
  ).filter((c) => c !== undefined);
  if (out.length === 0) throw badRequest('the PKCS#7 bundle holds no certificate');
  return out;
}

function parse(der: Uint8Array, n: number): X509Certificate {
  try {
    return new X509Certificate(der);
  } catch (e) {
    throw badRequest(`certificate ${n} is not a valid X.509 certificate`, e);
  }
}

function mayCertify(der: Uint8Array): boolean {
  const ext = AsnConvert.parse(der, Certificate).tbsCertificate.extensions?.find(
    (e) => e.extnID === id_ce_keyUsage,
  );
  if (!ext) return true;
  const ku = AsnConvert.parse(ext.extnValue, KeyUsage);
  return (ku.toNumber() & KeyUsageFlags.keyCertSign) !== 0;
}

/** The issuers of `leaf` among `all`, nearest first, each one verified to have signed the one below. */
function orderChain(leaf: Parsed, all: readonly Parsed[]): Uint8Array[] {
  const chain: Uint8Array[] = [];
  const used = new Set<Uint8Array>([leaf.der]);
  let cur = leaf.x;
  while (!issuedBy(cur, cur)) {
    const next = all.find((c) => !used.has(c.der) && issuedBy(cur, c.x));
    if (next === undefined) break;
    used.add(next.der);
    chain.push(next.der);
    cur = next.x;
  }
  return chain;
}

function issuedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
  } catch {
    return false;
  }
}
