import 'reflect-metadata';
import { X509Certificate } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { describe, expect, it, beforeAll } from 'vitest';
import { AsnConvert } from '@peculiar/asn1-schema';
import { ContentInfo, SignedData, id_signedData } from '@peculiar/asn1-cms';
import { certificateBody, formatFromAccept, wantsChain } from '../../lib/rest/response.js';
import { issue, makeCa, type TestCa } from '../fakes/rest-pki.js';

let ca: TestCa;
let leaf: Uint8Array;
beforeAll(async () => {
  ca = await makeCa('CN=Contoso Issuing CA, O=Contoso');
  leaf = new Uint8Array((await issue(ca, { subject: 'CN=api-client-1' })).rawData);
});

const pemBlocks = (body: Uint8Array): X509Certificate[] =>
  (
    new TextDecoder().decode(body).match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\n/g) ??
    []
  ).map((p) => new X509Certificate(p));

function certsOf(pkcs7: Uint8Array): Uint8Array[] {
  const ci = AsnConvert.parse(pkcs7, ContentInfo);
  expect(ci.contentType).toBe(id_signedData);
  const sd = AsnConvert.parse(ci.content, SignedData);
  expect(sd.signerInfos.length).toBe(0);
  const certs = sd.certificates;
  if (!certs) return [];
  return certs.map((c) => new Uint8Array(AsnConvert.serialize(c.certificate)));
}

describe('certificateBody', () => {
  it('ok/answers DER application/pkix-cert by default and for */*', () => {
    for (const accept of [undefined, null, '', '*/*', 'application/pkix-cert', 'application/json']) {
      expect(certificateBody(leaf, [ca.der], accept, null)).toEqual({
        contentType: 'application/pkix-cert',
        body: leaf,
      });
    }
  });

  it('ok/answers one PEM certificate for Accept application/x-pem-file', () => {
    const r = certificateBody(leaf, [ca.der], 'application/x-pem-file', undefined);
    expect(r.contentType).toBe('application/x-pem-file');
    const certs = pemBlocks(r.body);
    expect(certs.map((c) => new Uint8Array(c.raw))).toEqual([leaf]);
    expect(
      new TextDecoder()
        .decode(r.body)
        .split('\n')
        .every((l) => l.length <= 64),
    ).toBe(true);
  });

  it('ok/adds the CA chain to PEM with ?chain=true, and for application/pem-certificate-chain', () => {
    const r = certificateBody(leaf, [ca.der], 'application/x-pem-file', 'true');
    expect(r.contentType).toBe('application/x-pem-file');
    expect(pemBlocks(r.body).map((c) => new Uint8Array(c.raw))).toEqual([leaf, ca.der]);
    const rfc8555 = certificateBody(leaf, [ca.der], 'application/pem-certificate-chain', null);
    expect(rfc8555.contentType).toBe('application/pem-certificate-chain');
    expect(pemBlocks(rfc8555.body)).toHaveLength(2);
  });

  it('ok/answers a certs-only PKCS#7 with certificate and chain for application/pkcs7-mime', () => {
    const r = certificateBody(leaf, [ca.der], 'application/pkcs7-mime', null);
    expect(r.contentType).toBe('application/pkcs7-mime; smime-type=certs-only');
    expect(certsOf(r.body)).toEqual([leaf, ca.der]);
  });

  it('ok/switches DER to certs-only PKCS#7 when ?chain=true, since one DER certificate cannot carry a chain', () => {
    const r = certificateBody(leaf, [ca.der], undefined, '1');
    expect(r.contentType).toMatch(/^application\/pkcs7-mime/);
    expect(certsOf(r.body)).toEqual([leaf, ca.der]);
  });

  it('ok/honours q-values in Accept', () => {
    expect(formatFromAccept('application/x-pem-file;q=0.5, application/pkix-cert')).toBe('der');
    expect(formatFromAccept('application/pkix-cert;q=0, application/x-pem-file')).toBe('pem');
    expect(formatFromAccept('text/html, APPLICATION/X-PKCS7-CERTIFICATES;q=0.9')).toBe('pkcs7');
    expect(formatFromAccept('text/html')).toBeUndefined();
    expect(wantsChain('yes')).toBe(true);
    expect(wantsChain('false')).toBe(false);
    expect(wantsChain(null)).toBe(false);
  });

  it.skipIf(!hasOpenssl())('ok/openssl reads the certs-only PKCS#7', () => {
    const r = certificateBody(leaf, [ca.der], 'application/pkcs7-mime', null);
    const out = execFileSync('openssl', ['pkcs7', '-inform', 'DER', '-print_certs', '-noout'], {
      input: r.body,
    }).toString();
    expect(out).toContain('subject=CN = api-client-1');
    expect(out).toContain('subject=CN = Contoso Issuing CA, O = Contoso');
  });
});

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
