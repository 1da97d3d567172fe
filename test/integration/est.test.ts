import 'reflect-metadata';
import { createHash, webcrypto, X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { getApp } from '../../lib/app.js';
import type { Authorization } from '../../lib/challenge/types.js';
import type { CertificateRecord } from '../../lib/store/types.js';
import { recordFor } from '../fakes/rest-pki.js';
import { curlAndOpenssl, startCurlFront, type CurlFront } from '../helpers/curl-front.js';
import type { TestHost } from '../helpers/host.js';
import { docSection, shellBlocks } from '../helpers/docs.js';
import { describeWithClient } from '../interop/helpers/suite.js';

/**
 * EST (RFC 7030) with curl and openssl as the clients, through an App Service-like TLS front
 * end (optional client certificate forwarded in X-ARR-ClientCert) to the local host, using the
 * commands SCEPman's `enrollrenewcertificate.sh` (scepman/csr-request) runs: the root from
 * `certsrv/mscep/mscep.dll/pkiclient.exe?operation=GetCACert` (Intune off here), a PEM CSR sent
 * with `curl --data @file` (which strips the line breaks) and `Content-Type: application/pkcs10`,
 * the base64 answer wrapped in PKCS7 armour for `openssl pkcs7 -print_certs`, and renewal with
 * `/CN=Contoso`, an empty UPN and `curl --cert --key`.
 */

const UPN = 'alice@contoso.com';
const UPN_OID = '1.3.6.1.4.1.311.20.2.3';
const RSA = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;

// The EST page's curl + openssl block, minus the line that sets APP to a placeholder.
const DOC_EST = (shellBlocks(docSection('docs/est.md', '# EST enrollment (RFC 7030)'))[0] ?? '').replace(
  /^APP=.*$/m,
  '',
);

let env: CurlFront | undefined;
let dir: string;
let host: TestHost;

beforeAll(async () => {
  if (!curlAndOpenssl.available) return;
  env = await startCurlFront('est', {
    AppConfig__DbCSRValidation__AllowRenewals: 'true',
    AppConfig__DbCSRValidation__ClientCertificateHeader: 'X-ARR-ClientCert',
    AppConfig__DbCSRValidation__ReenrollmentAllowedCertificateTypes: 'DbCSR,Renewal,Static',
    AppConfig__DbCSRValidation__RevokeSupersededOnRenewal: 'true',
    AppConfig__StaticValidation__ValidityPeriodDays: '30',
    AppConfig__LocalCA__Subject: 'CN=EST Test CA',
  });
  ({ dir, host } = env);
});

afterAll(() => env?.close());

const sh = (script: string): Promise<string> => {
  if (!env) throw new Error('curl and openssl are not available');
  return env.sh(script);
};

/** The script's way of reading an EST answer: PKCS7 armour around the body, then print_certs. */
const readP7 = (curl: string, out: string): string => `{ echo "-----BEGIN PKCS7-----"; ${curl}
printf "\\n-----END PKCS7-----"; } > ${out}.p7b
openssl pkcs7 -print_certs -in ${out}.p7b -out ${out}.pem`;

const record = async (pemFile: string): Promise<CertificateRecord | undefined> => {
  const serial = new X509Certificate(readFileSync(join(dir, pemFile))).serialNumber.toLowerCase();
  return (await getApp()).store.getBySerial(serial.replace(/^(00)+(?=.)/, ''));
};

/**
 * A client certificate signed with the host's CA key (as the CA would have issued it) and
 * recorded as issued by `endpoint` with `authorization`: for the expired and type cases.
 */
async function caIssued(
  name: string,
  o: { authorization: Authorization; endpoint: string; notAfter?: Date },
): Promise<void> {
  const pem = readFileSync(join(host.dataDir, 'ca', 'ca.key.pem'), 'utf8');
  const caKey = await webcrypto.subtle.importKey(
    'pkcs8',
    Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64'),
    RSA,
    false,
    ['sign'],
  );
  const keys = await webcrypto.subtle.generateKey(
    { ...RSA, modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) },
    true,
    ['sign', 'verify'],
  );
  const ca = new x509.X509Certificate(host.caCertificatePem);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: createHash('sha256')
      .update(name)
      .digest('hex')
      .slice(0, 30)
      .replace(/^[89a-f]/, '1'),
    subject: `CN=${name}`,
    issuer: ca.subject,
    notBefore: new Date(Date.now() - 2 * 86_400_000),
    notAfter: o.notAfter ?? new Date(Date.now() + 86_400_000),
    publicKey: keys.publicKey,
    signingKey: caKey,
    signingAlgorithm: RSA,
    extensions: [await x509.AuthorityKeyIdentifierExtension.create(ca)],
  });
  await (await getApp()).store.create({ ...recordFor(cert, o.authorization), endpoint: o.endpoint });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)).toString('base64');
  writeFileSync(join(dir, `${name}.pem`), cert.toString('pem'));
  writeFileSync(
    join(dir, `${name}.key`),
    `-----BEGIN PRIVATE KEY-----\n${pkcs8}\n-----END PRIVATE KEY-----\n`,
  );
}

/** The script's renewal request: new key, `/CN=Contoso`, an empty UPN (its $UPN is unset). */
const PLACEHOLDER_CSR = `openssl genrsa -out new.key 2048 2>/dev/null
openssl req -new -key new.key -sha256 -out new.csr -subj "/CN=Contoso" \\
  -addext "subjectAltName=otherName:${UPN_OID};UTF8:"`;

const reenroll = (cert: string): string =>
  `curl -sS -o out.txt -w '%{http_code}' -X POST --data "@new.csr" -H "Content-Type: application/pkcs10" \\
  --cert ${cert}.pem --key ${cert}.key "$APP/.well-known/est/simplereenroll"; echo; cat out.txt`;

describeWithClient(
  'EST (RFC 7030) with curl + openssl through an App Service-like front end',
  curlAndOpenssl,
  () => {
    it('ok/mscep.dll GetCACert answers the CA with Intune off (the script downloads its root there)', async () => {
      const out = await sh(`curl --silent -X GET -H "Content-Type: application/pkcs10" \\
  "$APP/certsrv/mscep/mscep.dll/pkiclient.exe?operation=GetCACert" -o SCEPmanRoot.cer
openssl x509 -inform DER -in SCEPmanRoot.cer -noout -subject`);
      expect(out).toContain('subject=CN = EST Test CA');
    });

    it('ok/cacerts: base64 certs-only PKCS#7 that openssl reads after PKCS7 armour, also per endpoint label', async () => {
      const out = await sh(`${readP7('curl -sS "$APP/.well-known/est/cacerts"', 'cacerts')}
openssl verify -CAfile ca.pem cacerts.pem
curl -sS -D - -o /dev/null "$APP/.well-known/est/static/cacerts"`);
      expect(out).toContain('cacerts.pem: OK');
      expect(out).toMatch(/^content-type: application\/pkcs7-mime\r?$/im);
      expect(out).toMatch(/^content-transfer-encoding: base64\r?$/im);
      expect(readFileSync(join(dir, 'cacerts.pem'), 'utf8')).toContain('subject=CN = EST Test CA');
    });

    it('fail/an unknown label or operation is 404, a wrong method 405, with a short text body', async () => {
      const out = await sh(`for u in nowhere/cacerts serverkeygen; do
  curl -sS -o /dev/null -w '%{http_code} %{content_type}\\n' "$APP/.well-known/est/$u"; done
curl -sS -w ' %{http_code}\\n' "$APP/.well-known/est/simpleenroll"`);
      expect(out).toContain('404 text/plain; charset=utf-8\n404 text/plain; charset=utf-8');
      expect(out).toMatch(/^METHOD_NOT_ALLOWED: EST simpleenroll takes POST\n 405$/m);
    });

    it("ok/simpleenroll with a token, as the script's user enrollment sends it (PEM via --data)", async () => {
      const out = await sh(`openssl genrsa -out alice.key 2048 2>/dev/null
openssl req -new -key alice.key -sha256 -out alice.csr -subj "/CN=${UPN}" \\
  -addext "subjectAltName=otherName:${UPN_OID};UTF8:${UPN}" -addext "extendedKeyUsage=1.3.6.1.5.5.7.3.2"
${readP7('curl -sS -X POST --data "@alice.csr" -H "Content-Type: application/pkcs10" -H "Authorization: Bearer $T" "$APP/.well-known/est/simpleenroll"', 'alice')}
openssl x509 -in alice.pem -noout -subject -ext subjectAltName
openssl verify -CAfile ca.pem alice.pem
openssl x509 -checkend 86400 -noout -in alice.pem`);
      expect(out).toContain(`subject=CN = ${UPN}`);
      expect(out).toContain(`othername: UPN::${UPN}`);
      expect(out).toContain('alice.pem: OK');
      expect(out).toContain('Certificate will not expire');
      expect((await record('alice.pem'))?.authorization).toBe('api');
    });

    it('ok/simpleenroll takes the RFC 7030 body (base64 DER) and raw DER too', async () => {
      const out =
        await sh(`openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout b.key \\
  -subj "/CN=b64.contoso.com" -outform DER -out b.der 2>/dev/null
base64 b.der > b.b64
for f in b.b64 b.der; do
  curl -sS -o /dev/null -w '%{http_code}\\n' --data-binary "@$f" -H "Content-Type: application/pkcs10" \\
    -H "Authorization: Bearer $T" "$APP/.well-known/est/simpleenroll"; done`);
      expect(out).toBe('200\n200\n');
    });

    it('fail/simpleenroll without a token is 401 with a Bearer challenge and a text body', async () => {
      const out = await sh(`curl -sS -i -X POST --data "@alice.csr" -H "Content-Type: application/pkcs10" \\
  "$APP/.well-known/est/simpleenroll"`);
      expect(out).toMatch(/^HTTP\/1\.1 401/);
      expect(out).toMatch(/^www-authenticate: Bearer realm=/im);
      expect(out).toMatch(/^content-type: text\/plain/im);
      expect(out).toContain('UNAUTHORIZED: ');
    });

    it("ok/simplereenroll with the script's placeholder (/CN=Contoso, empty UPN) renews the ORIGINAL identity", async () => {
      const audit = vi.spyOn((await getApp()).audit, 'record');
      const out = await sh(`${PLACEHOLDER_CSR}
${readP7('curl -sS -X POST --data "@new.csr" -H "Content-Type: application/pkcs10" --cert alice.pem --key alice.key "$APP/.well-known/est/simplereenroll"', 'renewed')}
openssl x509 -in renewed.pem -noout -subject -ext subjectAltName,extendedKeyUsage
openssl verify -CAfile ca.pem renewed.pem
diff <(openssl x509 -in renewed.pem -noout -pubkey) <(openssl pkey -in new.key -pubout) && echo new-key`);
      expect(out).toContain(`subject=CN = ${UPN}`);
      expect(out).toContain(`othername: UPN::${UPN}`);
      expect(out).not.toContain('Contoso');
      expect(out).toContain('renewed.pem: OK');
      expect(out).toContain('new-key');
      const original = await record('alice.pem');
      expect(await record('renewed.pem')).toMatchObject({
        authorization: 'renewal',
        endpoint: 'api',
        requester: `certificate:${original?.serialNumber}`,
        renewalOf: original?.serialNumber,
        subject: `CN=${UPN}`,
      });
      // Delivered once the reply existed: the "renewed" audit event names the renewed certificate.
      expect(audit.mock.calls.map(([e]) => e)).toContainEqual(
        expect.objectContaining({
          operation: 'est/simplereenroll',
          outcome: 'renewed',
          renewalOf: original?.serialNumber,
        }),
      );
      audit.mockRestore();
    });

    it('ok/a certificate from scep/static renews with the static profile (its EKU and validity), not the API profile', async () => {
      await caIssued('kiosk01', { authorization: 'static', endpoint: 'static' });
      const out = await sh(`${PLACEHOLDER_CSR}
${readP7(`curl -sS -X POST --data "@new.csr" --cert kiosk01.pem --key kiosk01.key "$APP/.well-known/est/simplereenroll"`, 'kiosk')}
openssl x509 -in kiosk.pem -noout -subject -ext extendedKeyUsage
openssl x509 -checkend $((31 * 86400)) -noout -in kiosk.pem || true`);
      expect(out).toContain('subject=CN = kiosk01');
      expect(out).toContain('TLS Web Client Authentication');
      expect(out).not.toContain('TLS Web Server Authentication');
      expect(out).toContain('Certificate will expire');
      expect((await record('kiosk.pem'))?.endpoint).toBe('static');
    });

    it('ok/with RevokeSupersededOnRenewal the re-enrolled certificate is revoked (superseded) once delivered; the static profile (off) keeps kiosk01 good', async () => {
      const out = await sh(`for c in alice renewed kiosk01 kiosk; do
  openssl ocsp -issuer ca.pem -CAfile ca.pem -cert $c.pem -url ${host.baseUrl}/ocsp -no_nonce 2>&1
done`);
      expect(out).toMatch(/^alice\.pem: revoked\n(?:\t.*\n)*?\tReason: superseded\n/m);
      expect(out).toMatch(/^renewed\.pem: good$/m);
      expect(out).toMatch(/^kiosk01\.pem: good$/m);
      expect(out).toMatch(/^kiosk\.pem: good$/m);
      expect(out).not.toContain('verify error');
    });

    it('ok/the documented EST block (docs/est.md) runs as written: cacerts, simpleenroll with a token, simplereenroll over mTLS', async () => {
      expect(DOC_EST).toContain('simplereenroll');
      const out = await sh(`${DOC_EST}
openssl verify -CAfile ca.pem svc.pem svc-new.pem
openssl x509 -in svc-new.pem -noout -subject
diff <(openssl x509 -in svc-new.pem -noout -pubkey) <(openssl pkey -in svc-new.key -pubout) && echo new-key`);
      expect(out).toContain('svc.pem: OK\nsvc-new.pem: OK');
      expect(out).toContain('subject=CN = svc01.contoso.com');
      expect(out).toContain('new-key');
    });

    it('fail/simplereenroll without a client certificate is 401, even with a token', async () => {
      const out =
        await sh(`curl -sS -w ' %{http_code}' -X POST --data "@new.csr" -H "Authorization: Bearer $T" \\
  "$APP/.well-known/est/simplereenroll"`);
      expect(out).toMatch(
        /^UNAUTHORIZED: present the certificate being renewed as the TLS client certificate\n 401$/,
      );
    });

    it('fail/a revoked client certificate is refused with 403', async () => {
      const store = (await getApp()).store;
      const r = await record('alice.pem');
      if (!r) throw new Error('alice.pem is not recorded');
      await store.update(r, {
        status: 'revoked',
        revocation: { reason: 'keyCompromise', date: new Date().toISOString() },
      });
      const out = await sh(reenroll('alice'));
      expect(out).toMatch(/^403\nFORBIDDEN: the request was not authorized: revoked\n$/);
    });

    it('fail/an expired client certificate is refused with 403', async () => {
      await caIssued('expired01', {
        authorization: 'api',
        endpoint: 'api',
        notAfter: new Date(Date.now() - 3_600_000),
      });
      expect(await sh(reenroll('expired01'))).toMatch(/^403\n.*: expired\n$/);
    });

    it('fail/a certificate whose type is not in ReenrollmentAllowedCertificateTypes is refused with 403', async () => {
      await caIssued('intune01', { authorization: 'intune', endpoint: 'intune' });
      expect(await sh(reenroll('intune01'))).toMatch(/^403\n.*: type_not_allowed\n$/);
    });

    it('fail/a client certificate not issued by us (same subject, self-signed) is refused with 403', async () => {
      const out = await sh(`openssl req -x509 -newkey rsa:2048 -nodes -keyout forged.key -subj "/CN=${UPN}" \\
  -days 1 -out forged.pem 2>/dev/null
${reenroll('forged')}`);
      expect(out).toMatch(/^403\n.*: foreign_issuer\n$/);
    });
  },
);
