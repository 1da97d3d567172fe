import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { createHash, createPublicKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AsnParser } from '@peculiar/asn1-schema';
import {
  AuthorityKeyIdentifier,
  Certificate,
  CertificateList,
  SubjectPublicKeyInfo,
  id_ce_authorityKeyIdentifier,
} from '@peculiar/asn1-x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateIssuer } from '../../lib/ca/issue.js';
import { CLIENT_AUTH_EKU } from '../../lib/config/core.js';
import { parseCsr } from '../../lib/csr/parse.js';
import { LocalKey } from '../../lib/keys/local.js';
import type { CaKeys } from '../../lib/keys/types.js';
import { buildCrl } from '../../lib/revocation/crl.js';
import { ResponderCertificates } from '../../lib/revocation/responder.js';
import { makeCsr, rsaKey } from '../helpers/pki.js';
import { requireTools } from '../helpers/tools.js';

/**
 * A CA certificate another CA issued carries the SubjectKeyIdentifier that CA chose: here the
 * truncated SHA-256 of RFC 7093 §2 method 1, not SHA-1. What this CA signs must name that value
 * in its AuthorityKeyIdentifier, or path building (OpenSSL's included) does not find the issuer.
 */

const tools = requireTools('openssl');
let dir: string;
let ca: CaKeys;
let ski: string;

beforeAll(() => {
  if (!tools.available) return;
  dir = mkdtempSync(join(tmpdir(), 'ca-ski-'));
  const key = rsaKey(2048, 'ski-ca');
  writeFileSync(join(dir, 'ca.key'), key.export({ format: 'pem', type: 'pkcs8' }));
  const spki = AsnParser.parse(
    createPublicKey(key).export({ format: 'der', type: 'spki' }),
    SubjectPublicKeyInfo,
  );
  ski = createHash('sha256').update(Buffer.from(spki.subjectPublicKey)).digest('hex').slice(0, 40);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-new',
      '-key',
      join(dir, 'ca.key'),
      '-subj',
      '/CN=Key Identifier Test CA',
      '-days',
      '30',
      '-out',
      join(dir, 'ca.pem'),
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
      '-addext',
      `subjectKeyIdentifier=${ski.match(/../g)!.join(':')}`,
      '-addext',
      'authorityKeyIdentifier=none',
    ],
    { stdio: 'ignore' },
  );
  const signer = new LocalKey(key, 'ski-ca');
  const der = new Uint8Array(new X509Certificate(readFileSync(join(dir, 'ca.pem'))).raw);
  ca = { certificateDer: der, chainDer: [], signer, decrypter: signer };
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function akiOf(extensions: { extnID: string; extnValue: { buffer: ArrayBuffer } }[] | undefined): string {
  const e = extensions?.find((x) => x.extnID === id_ce_authorityKeyIdentifier);
  const aki = e && AsnParser.parse(e.extnValue.buffer, AuthorityKeyIdentifier);
  return aki?.keyIdentifier ? Buffer.from(aki.keyIdentifier.buffer).toString('hex') : '';
}

const pem = (der: Uint8Array, label: string): string =>
  `-----BEGIN ${label}-----\n${Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n')}\n-----END ${label}-----\n`;

describe.skipIf(!tools.available)(
  `key identifiers under a CA certificate with a SHA-256 SubjectKeyIdentifier${tools.available ? '' : ` (skipped: ${tools.reason})`}`,
  () => {
    it('an issued certificate names the CA certificate’s own key identifier and verifies with openssl', async () => {
      const csr = parseCsr(await makeCsr({ key: rsaKey(2048, 'ski-client'), subject: 'CN=device-1' }));
      const issued = await new CertificateIssuer(ca, { clockSkewMinutes: 5 }).issue(csr, {
        validityDays: 10,
        keyUsage: ['DigitalSignature'],
        ekus: [CLIENT_AUTH_EKU],
      });
      expect(akiOf(issued.certificate.tbsCertificate.extensions)).toBe(ski);
      writeFileSync(join(dir, 'leaf.pem'), pem(issued.der, 'CERTIFICATE'));
      const out = execFileSync('openssl', ['verify', '-CAfile', join(dir, 'ca.pem'), join(dir, 'leaf.pem')], {
        encoding: 'utf8',
      });
      expect(out).toContain(': OK');
    });

    it('a CRL names it and openssl accepts the CRL for that CA', async () => {
      const now = new Date();
      const der = await buildCrl({
        caCertificateDer: ca.certificateDer,
        signer: ca.signer,
        thisUpdate: now,
        nextUpdate: new Date(now.getTime() + 86_400_000),
        crlNumber: 7n,
        entries: (async function* () {})(),
      });
      expect(akiOf(AsnParser.parse(der, CertificateList).tbsCertList.crlExtensions)).toBe(ski);
      writeFileSync(join(dir, 'ca.crl'), pem(der, 'X509 CRL'));
      execFileSync('openssl', ['crl', '-in', join(dir, 'ca.crl'), '-CAfile', join(dir, 'ca.pem'), '-noout'], {
        stdio: 'ignore',
      });
    });

    it('the OCSP responder certificate names it', async () => {
      const responder = await new ResponderCertificates(ca).get();
      const cert = AsnParser.parse(responder.certificateDer, Certificate);
      expect(akiOf(cert.tbsCertificate.extensions)).toBe(ski);
    });
  },
);
