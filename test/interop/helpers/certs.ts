/**
 * Checks on a certificate a real client received, with node:crypto only (no code under test):
 * it chains to the CA, carries the client's key, the requested CN and SAN, and is an end-entity
 * certificate. Problems are returned as sentences so a test failure says what is wrong.
 */
import { createHash, createPrivateKey, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { normalizeSerial } from './pkimessage.js';

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/;

/** The first PEM certificate in a client's output file (or stdout). */
export function firstPemCertificate(text: string): string | undefined {
  return PEM_CERT.exec(text)?.[0];
}

/** SHA-256 of the SubjectPublicKeyInfo, hex: compares keys across PEM/DER/cert forms. */
export function spkiSha256(key: KeyObject): string {
  return createHash('sha256')
    .update(key.export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

export interface ExpectedIssue {
  caPem: string;
  /** The client's private key (PEM): the certificate must carry its public half. */
  keyPem: string;
  cn: string;
  /** A DNS subjectAltName the certificate must carry. */
  dnsSan?: string;
}

export interface IssuedFacts {
  cert: X509Certificate;
  /** Lower-case hex, no leading zeros. */
  serial: string;
  keySha256: string;
  problems: string[];
}

export function inspectIssued(certPem: string, expected: ExpectedIssue): IssuedFacts {
  const cert = new X509Certificate(certPem);
  const ca = new X509Certificate(expected.caPem);
  const problems: string[] = [];
  if (!cert.checkIssued(ca)) problems.push(`issuer "${cert.issuer}" is not the CA subject "${ca.subject}"`);
  if (!cert.verify(ca.publicKey)) problems.push('signature does not verify with the CA public key');
  if (cert.ca) problems.push('certificate is a CA certificate (basicConstraints CA:TRUE)');
  const privateKey = createPrivateKey(expected.keyPem);
  if (!cert.checkPrivateKey(privateKey)) problems.push("certificate does not carry the client's public key");
  const cns = cert.subject.split('\n').filter((l) => l.startsWith('CN='));
  if (!cns.includes(`CN=${expected.cn}`)) problems.push(`subject "${cert.subject}" lacks CN=${expected.cn}`);
  if (expected.dnsSan !== undefined) {
    const sans = (cert.subjectAltName ?? '').split(',').map((s) => s.trim());
    if (!sans.includes(`DNS:${expected.dnsSan}`)) {
      problems.push(`subjectAltName "${cert.subjectAltName ?? ''}" lacks DNS:${expected.dnsSan}`);
    }
  }
  const now = Date.now();
  if (Date.parse(cert.validFrom) > now) problems.push(`not valid yet (notBefore ${cert.validFrom})`);
  if (Date.parse(cert.validTo) <= now) problems.push(`already expired (notAfter ${cert.validTo})`);
  return {
    cert,
    serial: normalizeSerial(cert.serialNumber),
    keySha256: spkiSha256(createPublicKey(privateKey)),
    problems,
  };
}
