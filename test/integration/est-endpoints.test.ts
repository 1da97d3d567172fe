import 'reflect-metadata';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { getApp } from '../../lib/app.js';
import type { CertificateRecord } from '../../lib/store/types.js';
import { curlAndOpenssl, startCurlFront, type CurlFront } from '../helpers/curl-front.js';
import { describeWithClient } from '../interop/helpers/suite.js';

/**
 * EST (RFC 7030) under an endpoint's label, `/.well-known/est/{label}/…`, with curl and openssl
 * through the App Service-like TLS front end: simpleenroll authorized by that endpoint's
 * challenge (HTTP Basic password, RFC 7030 §3.2.3) and issued with its profile; simplereenroll
 * over mutual TLS renews only that endpoint's certificates.
 */

let env: CurlFront | undefined;
let dir: string;
let kioskChallenge: string;

beforeAll(async () => {
  if (!curlAndOpenssl.available) return;
  env = await startCurlFront('est-endpoints', {
    AppConfig__DbCSRValidation__AllowRenewals: 'true',
    AppConfig__DbCSRValidation__ClientCertificateHeader: 'X-ARR-ClientCert',
    AppConfig__StaticValidation__ValidityPeriodDays: '30',
    AppConfig__StaticValidation__DefaultEkus: '1.3.6.1.5.5.7.3.2,1.3.6.1.5.5.7.3.1',
  });
  dir = env.dir;
  const key = readFileSync(join(env.host.dataDir, 'admin-key.txt'), 'utf8').trim();
  const api = (path: string, body: unknown) =>
    fetch(`${env?.host.baseUrl}/api/manage/${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  await api('organizations', { id: 'contoso', displayName: 'Contoso' });
  const e = await api('endpoints', {
    name: 'kiosks',
    type: 'device-scep',
    displayName: 'Kiosks',
    delegatedTo: [{ organization: 'contoso' }],
    profile: { validityDays: 7, ekus: ['clientAuth'] },
  });
  expect(e.status).toBe(201);
  const a = await api('endpoints/kiosks/accounts', { name: 'kiosk-mdm', organization: 'contoso' });
  expect(a.status).toBe(201);
  kioskChallenge = ((await a.json()) as { challenge: string }).challenge;
});

afterAll(() => env?.close());

const sh = (script: string): Promise<string> => {
  if (!env) throw new Error('curl and openssl are not available');
  return env.sh(script);
};

const record = async (pemFile: string): Promise<CertificateRecord | undefined> => {
  const serial = new X509Certificate(readFileSync(join(dir, pemFile))).serialNumber.toLowerCase();
  return (await getApp()).store.getBySerial(serial.replace(/^(00)+(?=.)/, ''));
};

/** Enroll `name` at `label` with `curl --user`, read the answer as SCEPman's script does. */
const enroll = (
  label: string,
  name: string,
  user: string,
): string => `openssl req -new -newkey rsa:2048 -nodes \\
  -keyout ${name}.key -subj "/CN=${name}.contoso.com" -out ${name}.csr 2>/dev/null
{ echo "-----BEGIN PKCS7-----"; curl -sS --fail-with-body -X POST --data "@${name}.csr" \\
  -H "Content-Type: application/pkcs10" ${user} "$APP/.well-known/est/${label}/simpleenroll"
  printf "\\n-----END PKCS7-----"; } > ${name}.p7b
openssl pkcs7 -print_certs -in ${name}.p7b -out ${name}.pem
openssl x509 -in ${name}.pem -noout -subject -ext extendedKeyUsage
openssl verify -CAfile ca.pem ${name}.pem`;

const status = (label: string, op: string, args: string): string =>
  `curl -sS -o out.txt -w '%{http_code}\\n' -X POST --data "@renew.csr" -H "Content-Type: application/pkcs10" \\
  ${args} "$APP/.well-known/est/${label}/${op}"; cat out.txt`;

describeWithClient('EST under endpoint labels with curl + openssl', curlAndOpenssl, () => {
  it('ok/static/simpleenroll with the static challenge as the Basic password issues with the static profile', async () => {
    const out = await sh(enroll('static', 'dev1', '--user "device:test-challenge-1"'));
    expect(out).toContain('subject=CN = dev1.contoso.com');
    expect(out).toContain('TLS Web Server Authentication');
    expect(out).toContain('dev1.pem: OK');
    expect(await record('dev1.pem')).toMatchObject({ endpoint: 'static', authorization: 'static' });
  });

  it("ok/kiosks/simpleenroll with the account's challenge issues with that endpoint's profile and account", async () => {
    const out = await sh(`${enroll('kiosks', 'kiosk1', `--user "kiosk-mdm:${kioskChallenge}"`)}
openssl x509 -checkend $((8 * 86400)) -noout -in kiosk1.pem || true`);
    expect(out).toContain('kiosk1.pem: OK');
    expect(out).not.toContain('TLS Web Server Authentication');
    expect(out).toContain('Certificate will expire');
    expect(await record('kiosk1.pem')).toMatchObject({
      endpoint: 'kiosks',
      authorization: 'account',
      organization: 'contoso',
    });
  });

  it("fail/another endpoint's challenge, a wrong one or none: 403, 403, 401 with a Basic challenge", async () => {
    const out =
      await sh(`openssl req -new -newkey rsa:2048 -nodes -keyout renew.key -subj "/CN=x" -out renew.csr 2>/dev/null
${status('kiosks', 'simpleenroll', '--user "d:test-challenge-1"')}
${status('static', 'simpleenroll', '--user "d:wrong"')}
curl -sS -D - -o /dev/null -X POST --data "@renew.csr" "$APP/.well-known/est/static/simpleenroll"`);
    expect(out).toMatch(/^403\n.*: challenge-malformed\n403\n.*: challenge-mismatch\n/);
    expect(out).toMatch(/^HTTP\/1\.1 401/m);
    expect(out).toMatch(/^www-authenticate: Basic realm=/im);
  });

  it('ok/kiosks/simplereenroll over mTLS renews a kiosks certificate: same identity, new key, kiosks profile', async () => {
    const out =
      await sh(`openssl req -new -newkey rsa:2048 -nodes -keyout renew.key -subj "/CN=Contoso" -out renew.csr 2>/dev/null
{ echo "-----BEGIN PKCS7-----"; curl -sS --fail-with-body -X POST --data "@renew.csr" \\
  --cert kiosk1.pem --key kiosk1.key "$APP/.well-known/est/kiosks/simplereenroll"
  printf "\\n-----END PKCS7-----"; } > kiosk2.p7b
openssl pkcs7 -print_certs -in kiosk2.p7b -out kiosk2.pem
openssl x509 -in kiosk2.pem -noout -subject
diff <(openssl x509 -in kiosk2.pem -noout -pubkey) <(openssl pkey -in renew.key -pubout) && echo new-key`);
    expect(out).toContain('subject=CN = kiosk1.contoso.com');
    expect(out).toContain('new-key');
    const old = await record('kiosk1.pem');
    expect(await record('kiosk2.pem')).toMatchObject({
      endpoint: 'kiosks',
      authorization: 'renewal',
      renewalOf: old?.serialNumber,
    });
  });

  it('fail/a certificate of another endpoint does not renew under this label (403 other_endpoint); none at all is 401', async () => {
    const out = await sh(`${status('kiosks', 'simplereenroll', '--cert dev1.pem --key dev1.key')}
${status('kiosks', 'simplereenroll', '')}`);
    expect(out).toMatch(
      /^403\nFORBIDDEN: the request was not authorized: other_endpoint\n401\nUNAUTHORIZED: /,
    );
  });

  it('fail/an unknown label is 404', async () => {
    expect(await sh(status('nowhere', 'simpleenroll', '--user "d:x"'))).toMatch(/^404\n/);
  });
});
