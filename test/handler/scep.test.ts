import 'reflect-metadata';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import azf, { type HttpResponseInit } from '@azure/functions';
import { AsnParser } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mscep } from '../../functions/mscep.js';
import { scep } from '../../functions/scep.js';
import { createApp, getApp, setApp } from '../../lib/app.js';
import { silentLogger } from '../../lib/log.js';
import { CAPABILITIES } from '../../lib/scep/operations/get-ca-caps.js';
import { PKIStatus } from '../../lib/scep/types.js';
import { MessageType } from '../../lib/scep/types.js';
import { makeCert, makeCsr, rsaKey, san } from '../helpers/pki.js';
import { buildPkiMessage, readCertRep } from '../helpers/scep-client.js';

/**
 * The exported `scep` handler called directly, as the Functions host would call it
 * (STYLE.md #2): no HTTP server, `new HttpRequest` / `new InvocationContext`.
 */

const CHALLENGE = 'handler-challenge';
const MAX_BODY = 4096;
let dataDir: string;
let ca: Certificate;

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    AppConfig__DataDir: dataDir,
    AppConfig__StaticValidation__RequestPassword: CHALLENGE,
    AppConfig__MaxRequestBytes: String(MAX_BODY),
    ...extra,
  };
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'scep-handler-'));
  setApp(createApp(env(), { logger: silentLogger }));
  ca = AsnParser.parse((await getApp()).ca.certificateDer, Certificate);
});
afterAll(() => {
  setApp(undefined);
  rmSync(dataDir, { recursive: true, force: true });
});

function call(o: {
  method?: 'GET' | 'POST';
  query?: string;
  endpoint?: string;
  rest?: string;
  body?: Uint8Array;
  headers?: Record<string, string>;
}): Promise<HttpResponseInit> {
  const endpoint = o.endpoint ?? 'static';
  const request = new azf.HttpRequest({
    method: o.method ?? 'GET',
    url: `http://127.0.0.1/scep/${endpoint}${o.rest ? `/${o.rest}` : ''}${o.query ?? ''}`,
    headers: o.headers ?? {},
    params: { endpoint, ...(o.rest ? { rest: o.rest } : {}) },
    ...(o.body ? { body: { bytes: o.body } } : {}),
  });
  return scep(request, new azf.InvocationContext({ functionName: 'scep' })) as Promise<HttpResponseInit>;
}

const header = (r: HttpResponseInit, name: string): string | undefined =>
  (r.headers as Record<string, string> | undefined)?.[name];

function bodyBytes(r: HttpResponseInit): Uint8Array {
  expect(r.body).toBeInstanceOf(Uint8Array);
  return r.body as Uint8Array;
}

async function pkcsReq(cn: string) {
  const key = rsaKey(2048, 'handler-client');
  const signer = await makeCert({ key, subject: 'CN=SCEP SIGNER' });
  const csr = await makeCsr({ key, subject: `CN=${cn}`, challenge: CHALLENGE });
  const msg = buildPkiMessage({
    messageType: MessageType.PKCSReq,
    transactionId: `tx-${cn}`,
    content: csr,
    recipients: [ca],
    signerKey: key,
    signerCert: signer.cert,
  });
  return { key, signer, msg };
}

describe('scep handler: GetCACaps and GetCACert', () => {
  it.each([
    '?operation=GetCACaps',
    '?operation=GetCACaps&message=CAIdentifier',
    '?operation=getcacaps&message=',
  ])('ok/GetCACaps (%s) → text/plain, one capability per line, every capability', async (query) => {
    const r = await call({ query });
    expect(r.status).toBe(200);
    expect(header(r, 'content-type')).toMatch(/^text\/plain/);
    expect(typeof r.body).toBe('string');
    const lines = (r.body as string).trim().split('\n');
    expect(lines).toEqual([...CAPABILITIES]);
    for (const cap of [
      'POSTPKIOperation',
      'Renewal',
      'SHA-1',
      'SHA-256',
      'SHA-384',
      'SHA-512',
      'AES',
      'DES3',
      'SCEPStandard',
    ]) {
      expect(lines).toContain(cap);
    }
  });

  it.each([
    '?operation=GetCACert',
    '?operation=GetCACert&message=anything-at-all',
    '?operation=GetCACert&message=',
    '?message=x&operation=GETCACERT',
  ])('ok/GetCACert (%s) → the CA certificate as DER application/x-x509-ca-cert', async (query) => {
    const r = await call({ query });
    expect(r.status).toBe(200);
    expect(header(r, 'content-type')).toBe('application/x-x509-ca-cert');
    const der = bodyBytes(r);
    expect(Buffer.from(der).equals(Buffer.from((await getApp()).ca.certificateDer))).toBe(true);
    expect(new X509Certificate(der).ca).toBe(true);
  });

  it('ok/a Windows sub-path (/pkiclient.exe) is the same endpoint', async () => {
    const r = await call({ query: '?operation=GetCACaps', rest: 'pkiclient.exe' });
    expect(r.status).toBe(200);
  });
});

describe('scep handler: errors', () => {
  it('fail/an unknown operation → 400 UNKNOWN_OPERATION', async () => {
    const r = await call({ query: '?operation=GetNextCACertificates' });
    expect(r.status).toBe(400);
    expect(r.jsonBody).toMatchObject({ error: 'UNKNOWN_OPERATION' });
  });

  it('fail/no operation → 400 UNKNOWN_OPERATION', async () => {
    const r = await call({});
    expect(r.status).toBe(400);
    expect(r.jsonBody).toMatchObject({ error: 'UNKNOWN_OPERATION' });
  });

  it('fail/an unknown endpoint → 404 UNKNOWN_ENDPOINT', async () => {
    const r = await call({ endpoint: 'nope', query: '?operation=GetCACaps' });
    expect(r.status).toBe(404);
    expect(r.jsonBody).toMatchObject({ error: 'UNKNOWN_ENDPOINT' });
  });

  it('fail/GET PKIOperation without a message → 400 BAD_REQUEST', async () => {
    const r = await call({ query: '?operation=PKIOperation' });
    expect(r.status).toBe(400);
    expect(r.jsonBody).toMatchObject({ error: 'BAD_REQUEST' });
  });

  it('fail/POST PKIOperation with garbage → 400 BAD_REQUEST as JSON', async () => {
    const r = await call({
      method: 'POST',
      query: '?operation=PKIOperation',
      body: new Uint8Array(Buffer.from('hello world')),
    });
    expect(r.status).toBe(400);
    expect(header(r, 'content-type')).toMatch(/^application\/json/);
    expect(r.jsonBody).toMatchObject({ error: 'BAD_REQUEST' });
  });

  it('fail/POST PKIOperation with an empty body → 400 BAD_REQUEST', async () => {
    const r = await call({ method: 'POST', query: '?operation=PKIOperation' });
    expect(r.status).toBe(400);
    expect(r.jsonBody).toMatchObject({ error: 'BAD_REQUEST' });
  });

  it('fail/a body over AppConfig__MaxRequestBytes → 413 BODY_TOO_LARGE', async () => {
    const r = await call({
      method: 'POST',
      query: '?operation=PKIOperation',
      body: new Uint8Array(MAX_BODY + 1),
    });
    expect(r.status).toBe(413);
    expect(r.jsonBody).toMatchObject({ error: 'BODY_TOO_LARGE' });
  });

  it('fail/a body over the cap whose Content-Length understates it → 413', async () => {
    const r = await call({
      method: 'POST',
      query: '?operation=PKIOperation',
      body: new Uint8Array(MAX_BODY * 3),
      headers: { 'content-length': '100' },
    });
    expect(r.status).toBe(413);
  });

  // The cap held for POST bodies only: the same pkiMessage sent as GET ?message= was decoded
  // and answered whatever its size (here with a certificate).
  it('fail/a GET message over AppConfig__MaxRequestBytes → 413, as the same message POSTed', async () => {
    const key = rsaKey(2048, 'handler-client');
    const signer = await makeCert({ key, subject: 'CN=SCEP SIGNER' });
    const sans = Array.from({ length: 40 }, (_, i) =>
      san.dns(`host-${i}.a-rather-long-department-name.contoso.com`),
    );
    const msg = buildPkiMessage({
      messageType: MessageType.PKCSReq,
      transactionId: 'tx-get-oversize',
      content: await makeCsr({ key, subject: 'CN=get-oversize', challenge: CHALLENGE, sans }),
      recipients: [ca],
      signerKey: key,
      signerCert: signer.cert,
    });
    expect(msg.length).toBeGreaterThan(MAX_BODY);
    const r = await call({
      query: `?operation=PKIOperation&message=${encodeURIComponent(Buffer.from(msg).toString('base64'))}`,
    });
    expect(r.status).toBe(413);
    expect(r.jsonBody).toMatchObject({ error: 'BODY_TOO_LARGE' });
    expect((await call({ method: 'POST', query: '?operation=PKIOperation', body: msg })).status).toBe(413);
  });

  it('fail/a Content-Length over the cap → 413 before the body is read', async () => {
    const r = await call({
      method: 'POST',
      query: '?operation=PKIOperation',
      body: new Uint8Array(10),
      headers: { 'content-length': '999999999' },
    });
    expect(r.status).toBe(413);
  });
});

describe('scep handler: PKIOperation', () => {
  it('ok/POST without a Content-Type → 200 application/x-pki-message with a certificate', async () => {
    const { key, signer, msg } = await pkcsReq('handler-post');
    expect(msg.length).toBeLessThan(MAX_BODY);
    const r = await call({ method: 'POST', query: '?operation=PKIOperation', body: msg });
    expect(r.status).toBe(200);
    expect(header(r, 'content-type')).toBe('application/x-pki-message');
    const rep = await readCertRep(bodyBytes(r), key, signer.cert);
    expect(rep.status).toBe(PKIStatus.SUCCESS);
    expect(rep.certificates[0]?.subject).toBe('CN=handler-post');
  });

  it('ok/GET with the message in the query → the same certificate again (idempotent)', async () => {
    const { key, signer, msg } = await pkcsReq('handler-post');
    const first = await readCertRep(
      bodyBytes(await call({ method: 'POST', query: '?operation=PKIOperation', body: msg })),
      key,
      signer.cert,
    );
    const r = await call({
      query: `?operation=PKIOperation&message=${encodeURIComponent(Buffer.from(msg).toString('base64'))}`,
    });
    expect(r.status).toBe(200);
    const rep = await readCertRep(bodyBytes(r), key, signer.cert);
    expect(rep.certificates[0]?.serialNumber).toBe(first.certificates[0]?.serialNumber);
  });
});

describe('scep handler: invalid settings', () => {
  it('fail/bad settings → 503 CONFIG_INVALID whose body names no setting value', async () => {
    const secret = 'super-secret-value-123';
    const broken = createApp(
      env({
        AppConfig__StaticValidation__RequestPassword: secret,
        AppConfig__ValidityPeriodDays: 'abc-987',
        AppConfig__BaseUrl: 'not-a-url-xyz',
      }),
      { logger: silentLogger },
    );
    broken.catch(() => undefined);
    const previous = getApp();
    setApp(broken);
    try {
      const r = await call({ query: '?operation=GetCACaps' });
      expect(r.status).toBe(503);
      expect(r.jsonBody).toMatchObject({ error: 'CONFIG_INVALID' });
      const text = JSON.stringify(r.jsonBody);
      for (const v of [secret, 'abc-987', 'not-a-url-xyz', 'AppConfig__']) expect(text).not.toContain(v);
    } finally {
      setApp(previous);
    }
  });
});

describe('mscep handler (certsrv/mscep/mscep.dll) with Intune off', () => {
  const callMscep = (query: string, method: 'GET' | 'POST' = 'GET'): Promise<HttpResponseInit> =>
    mscep(
      new azf.HttpRequest({
        method,
        url: `http://127.0.0.1/certsrv/mscep/mscep.dll/pkiclient.exe${query}`,
        params: { rest: 'pkiclient.exe' },
        ...(method === 'POST' ? { body: { bytes: new Uint8Array([0x30, 0x00]) } } : {}),
      }),
      new azf.InvocationContext({ functionName: 'mscep' }),
    ) as Promise<HttpResponseInit>;

  // Regression: SCEPman's enrollrenewcertificate.sh downloads the root here and stopped with
  // "Could not read issuer certificate" when the alias answered 404 UNKNOWN_ENDPOINT.
  it('ok/GetCACert answers the CA certificate, as SCEPman does without Intune', async () => {
    const r = await callMscep('?operation=GetCACert');
    expect(r.status).toBe(200);
    expect(header(r, 'content-type')).toBe('application/x-x509-ca-cert');
    expect(Buffer.from(bodyBytes(r)).equals(Buffer.from((await getApp()).ca.certificateDer))).toBe(true);
  });

  it('ok/GetCACaps answers the capabilities', async () => {
    const r = await callMscep('?operation=GetCACaps');
    expect(r.status).toBe(200);
    expect(r.body).toBe(`${CAPABILITIES.join('\n')}\n`);
  });

  it('fail/PKIOperation still needs the Intune endpoint: 404 UNKNOWN_ENDPOINT', async () => {
    for (const r of [
      await callMscep('?operation=PKIOperation', 'POST'),
      await callMscep('?operation=PKIOperation&message=MAA'),
    ]) {
      expect(r.status).toBe(404);
      expect(r.jsonBody).toMatchObject({ error: 'UNKNOWN_ENDPOINT' });
    }
  });
});
