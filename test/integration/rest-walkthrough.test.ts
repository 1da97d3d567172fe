import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getApp } from '../../lib/app.js';
import type { CertificateRecord } from '../../lib/store/types.js';
import { curlAndOpenssl, startCurlFront, type CurlFront } from '../helpers/curl-front.js';
import type { TestHost } from '../helpers/host.js';
import { docSection, shellBlocks } from '../helpers/docs.js';

/**
 * The REST walk-through (docs/rest.md), run as written with the real openssl and
 * curl against the real app: the local host serves functions/csr.ts with the REST API on, its
 * tokens checked against a local JWKS server. An HTTPS server in front stands in for the App
 * Service front end (TLS, optional client certificate forwarded in X-ARR-ClientCert, a
 * client-sent X-ARR-ClientCert removed) and proxies every request to the host.
 *
 * The host runs on the real clock (the local host takes no clock), so the tokens are minted
 * for the current time; nothing here depends on how much time passes during the run.
 */

const tools = curlAndOpenssl.available;

// The blocks of docs/rest.md, minus the line that sets APP to a placeholder (the tests set APP).
const runnable = (block: string | undefined): string => {
  if (block === undefined) throw new Error('docs/rest.md: a REST walk-through code block is missing');
  return block.replace(/^APP=.*$/m, '');
};
const step3 = shellBlocks(docSection('docs/rest.md', '## 3. Request a certificate'));
const step4 = shellBlocks(docSection('docs/rest.md', '## 4. Renew with the current certificate'));
const DOC_ENROLL = runnable(step3[0]);
const DOC_PEM_CHAIN = runnable(step3[1]);
const DOC_RENEW = runnable(step4[0]);

let env: CurlFront | undefined;
let dir: string;
let host: TestHost;

beforeAll(async () => {
  if (!tools) return;
  env = await startCurlFront('rest-walkthrough', {
    AppConfig__DbCSRValidation__AllowRenewals: 'true',
    AppConfig__DbCSRValidation__ClientCertificateHeader: 'X-ARR-ClientCert',
    AppConfig__LocalCA__Subject: 'CN=Walkthrough CA',
  });
  ({ dir, host } = env);
});

afterAll(() => env?.close());

/**
 * Run a shell snippet with bash (asynchronously: the servers answer from this process), with
 * APP set to the front end, T to a valid token, and curl trusting the front end's certificate.
 */
const sh = (script: string): Promise<string> => {
  if (!env) throw new Error('curl and openssl are not available');
  return env.sh(script);
};

const apiRecords = async (): Promise<CertificateRecord[]> =>
  (await (await getApp()).store.search({ endpoint: 'api', limit: 1000 })).items;

/** Serial number as the store keeps it: lower-case hex. */
const serialOf = (file: string): string =>
  new X509Certificate(readFileSync(join(dir, file))).serialNumber.toLowerCase();

/** A new key and a request for build01, for the refusal cases (not a documented command). */
const REQUEST = `openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$KEY" \\
    -subj "/CN=build01.contoso.com/O=Contoso" \\
    -addext "subjectAltName=DNS:build01.contoso.com" -outform DER 2>/dev/null`;

describe.skipIf(!tools)('docs walk-through: openssl + curl against POST /api/csr on the local host', () => {
  it('ok/step 3: the documented enrollment (DER request, token) returns a DER certificate from the host CA', async () => {
    const out = await sh(DOC_ENROLL);
    expect(out).toContain('subject=CN = build01.contoso.com, O = Contoso');
    expect(out).toContain('issuer=CN = Walkthrough CA');
    expect(out).toMatch(/^notAfter=/m);

    const checked = await sh(`openssl x509 -inform DER -in build01.der -out build01.pem
openssl verify -CAfile ca.pem build01.pem
openssl x509 -in build01.pem -noout -ext subjectAltName,extendedKeyUsage`);
    expect(checked).toContain('build01.pem: OK');
    expect(checked).toContain('DNS:build01.contoso.com');
    expect(checked).toContain('TLS Web Server Authentication, TLS Web Client Authentication');
    const records = await apiRecords();
    expect(records.map((r) => [r.serialNumber, r.authorization])).toEqual([[serialOf('build01.pem'), 'api']]);
  });

  it('ok/step 3: the documented PEM request with Accept x-pem-file and ?chain=true returns certificate then CA', async () => {
    await sh(DOC_PEM_CHAIN);
    const pem = readFileSync(join(dir, 'build01-fullchain.pem'), 'utf8');
    const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    expect(blocks).toHaveLength(2);
    const [leaf, ca] = blocks.map((b) => new X509Certificate(b));
    expect(leaf?.subject).toBe('CN=build01.contoso.com\nO=Contoso');
    expect(ca?.raw.equals(new X509Certificate(host.caCertificatePem).raw)).toBe(true);
    expect(await sh('openssl verify -CAfile ca.pem build01-fullchain.pem')).toContain('OK');
  });

  it('fail/without a token the answer is 401 with a Bearer challenge, relayed by the front end', async () => {
    const out = await sh(`KEY=k.key; ${REQUEST} | curl -sS -i --data-binary @- "$APP/api/csr"`);
    expect(out).toMatch(/^HTTP\/1\.1 401/);
    expect(out).toMatch(/^www-authenticate: Bearer realm="azure-scep-ca"/im);
    expect(out).toMatch(/^content-type: application\/json/im);
    expect(out).toContain('"error":"UNAUTHORIZED"');
  });

  it('ok/step 4: the documented renewal presents the issued certificate over mTLS, no token', async () => {
    const renewed = serialOf('build01.pem');
    const out = await sh(`${DOC_RENEW}
openssl x509 -inform DER -in build01-new.der -out build01-new.pem
openssl x509 -in build01-new.pem -noout -subject
openssl verify -CAfile ca.pem build01-new.pem
diff <(openssl x509 -in build01-new.pem -noout -pubkey) <(openssl pkey -in build01-new.key -pubout) && echo same-key`);
    expect(out).toContain('subject=CN = build01.contoso.com, O = Contoso');
    expect(out).toContain('build01-new.pem: OK');
    expect(out).toContain('same-key');
    const renewal = (await apiRecords()).filter((r) => r.authorization === 'renewal');
    expect(renewal.map((r) => [r.serialNumber, r.requester])).toEqual([
      [serialOf('build01-new.pem'), `certificate:${renewed}`],
    ]);
  });

  it('ok/a renewal that asks for another subject gets the renewed certificate, never the other subject', async () => {
    const out =
      await sh(`openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout other.key \\
    -subj "/CN=db01.contoso.com" -addext "subjectAltName=DNS:db01.contoso.com" -outform DER 2>/dev/null \\
  | curl -sS -w '%{http_code}' --cert build01.pem --key build01.key --data-binary @- "$APP/api/csr" -o other.der
echo
openssl x509 -inform DER -in other.der -noout -subject -ext subjectAltName`);
    expect(out).toMatch(/^200$/m);
    expect(out).toContain('subject=CN = build01.contoso.com, O = Contoso');
    expect(out).toContain('DNS:build01.contoso.com');
    expect(out).not.toContain('db01');
  });

  it('ok/step 4: with a token as well, the token is used and the client certificate ignored', async () => {
    const out =
      await sh(`openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout db01.key \\
    -subj "/CN=db01.contoso.com" -outform DER 2>/dev/null \\
  | curl -sS -w '%{http_code}' --cert build01.pem --key build01.key -H "Authorization: Bearer $T" \\
      --data-binary @- "$APP/api/csr" -o db01.der`);
    expect(out).toBe('200');
    const record = (await apiRecords()).find((r) => r.serialNumber === serialOf('db01.der'));
    expect(record?.authorization).toBe('api');
    expect(record?.requester).toMatch(/^entra:/);
  });

  it('fail/an X-ARR-ClientCert header sent by the client is removed by the front end: 401', async () => {
    // Were the header passed on, this CSR (build01's subject and SANs) would renew build01.
    const out = await sh(`CERT=$(openssl x509 -in build01.pem -outform DER | base64 -w0)
KEY=k.key; ${REQUEST} \\
  | curl -sS -o /dev/null -w '%{http_code}' -H "X-ARR-ClientCert: $CERT" --data-binary @- "$APP/api/csr"`);
    expect(out).toBe('401');
  });
});
