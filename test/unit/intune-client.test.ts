import { generateKeyPairSync } from 'node:crypto';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { IntuneClient, type IntuneClientOptions } from '../../lib/intune/client.js';
import { certificateCredential } from '../../lib/intune/credentials.js';
import { IntuneResultCodes, intuneReason } from '../../lib/intune/types.js';
import { makeIntuneCsr, type TestCsr } from '../fakes/intune-csr.js';
import { type FakeIntune, INTUNE_DOUBLE_SLASH_SCOPE, startFakeIntune } from '../fakes/intune-server.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

let fake: FakeIntune;
let csr: TestCsr;
let clock: number;

function client(extra: Partial<IntuneClientOptions> = {}): IntuneClient {
  return new IntuneClient({ ...fake.clientOptions(), timeoutMs: 2000, now: () => clock, ...extra });
}

const success = (transactionId: string, certificateRequest: string) => ({
  transactionId,
  certificateRequest,
  certificateThumbprint: 'ab:cd:0123456789abcdef0123456789abcdef0123',
  certificateSerialNumber: '7f3a9c',
  certificateExpiration: new Date('2027-03-04T05:06:07Z'),
  issuingCertificateAuthority: 'CN=Test CA,O=Test',
});

beforeAll(async () => {
  csr = await makeIntuneCsr({ challenge: 'opaque-intune-challenge' });
});
beforeEach(async () => {
  clock = Date.parse('2025-01-01T00:00:00Z');
  fake = await startFakeIntune();
});
afterEach(async () => {
  await fake.close();
});

describe('IntuneClient: ok', () => {
  it('ok/cold validateRequest makes exactly two token requests (Graph, Intune double-slash), one discovery, one call', async () => {
    const c = client();
    const r = await c.validateRequest('tx-1', csr.base64);
    expect(r).toMatchObject({ ok: true, code: 'Success', errorDescription: '' });
    expect(fake.tokenRequests.map((t) => t.scope)).toEqual([
      `${fake.graphBase}.default`,
      INTUNE_DOUBLE_SLASH_SCOPE,
    ]);
    expect(fake.discoveryRequests).toHaveLength(1);
    expect(fake.calls).toHaveLength(1);
    expect(fake.violations).toEqual([]);
  });

  it('ok/sends the body and headers of spec §2 and §3.1', async () => {
    const r = await client().validateRequest('tx-1', csr.base64);
    const call = fake.calls[0]!;
    expect(call.body).toEqual({
      request: {
        transactionId: 'tx-1',
        certificateRequest: csr.base64,
        callerInfo: 'azure-scep-ca-test/1.0',
      },
    });
    expect(call.headers['api-version']).toBe('2018-02-20');
    expect(call.headers['client-request-id']).toMatch(UUID);
    expect(call.headers['client-request-id']).toBe(r.activityId);
    expect(call.headers.useragent).toBe('azure-scep-ca-test/1.0');
    expect(call.headers['user-agent']).toBe('azure-scep-ca-test/1.0');
    expect(call.headers['content-type']).toMatch(/^application\/json/);
    expect(call.challenge).toBe('opaque-intune-challenge');
    const d = fake.discoveryRequests[0]!;
    expect(d.headers['client-request-id']).toMatch(UUID);
    expect(d.headers['api-version']).toBeUndefined();
  });

  it('ok/reuses tokens and discovery; a fresh client-request-id per call', async () => {
    const c = client();
    await c.validateRequest('tx-1', csr.base64);
    await c.successNotification(success('tx-1', csr.base64));
    await c.failureNotification({
      transactionId: 'tx-1',
      certificateRequest: csr.base64,
      hResult: 1,
      errorDescription: 'x',
    });
    expect(fake.tokenRequests).toHaveLength(2);
    expect(fake.discoveryRequests).toHaveLength(1);
    const ids = fake.calls.map((k) => k.headers['client-request-id']);
    expect(new Set(ids).size).toBe(3);
    expect(fake.violations).toEqual([]);
  });

  it('ok/concurrent cold calls share one token request per scope and one discovery', async () => {
    const c = client();
    const rs = await Promise.all([1, 2, 3].map((i) => c.validateRequest(`tx-${i}`, csr.base64)));
    expect(rs.every((r) => r.ok)).toBe(true);
    expect(fake.tokenRequests).toHaveLength(2);
    expect(fake.discoveryRequests).toHaveLength(1);
  });

  it('ok/refreshes a token when expires_in has (nearly) run out', async () => {
    fake.tokenLifetimeSeconds = 3600;
    const c = client();
    await c.validateRequest('tx-1', csr.base64);
    clock += 3000 * 1000; // before expiry minus the 5-minute margin
    await c.validateRequest('tx-2', csr.base64);
    expect(fake.tokenRequests).toHaveLength(2);
    clock += 400 * 1000; // inside the margin
    await c.validateRequest('tx-3', csr.base64);
    expect(fake.tokenRequests.map((t) => t.scope)).toEqual([
      `${fake.graphBase}.default`,
      INTUNE_DOUBLE_SLASH_SCOPE,
      INTUNE_DOUBLE_SLASH_SCOPE,
    ]);
  });

  it('ok/successNotification sends the §3.2 fields: upper-case thumbprint, ISO 8601 UTC expiry, no optional CA fields', async () => {
    const c = client();
    await c.validateRequest('tx-1', csr.base64);
    const r = await c.successNotification(success('tx-1', csr.base64));
    expect(r.ok).toBe(true);
    expect(fake.calls[1]!.body).toEqual({
      notification: {
        transactionId: 'tx-1',
        certificateRequest: csr.base64,
        certificateThumbprint: 'ABCD0123456789ABCDEF0123456789ABCDEF0123',
        certificateSerialNumber: '7f3a9c',
        certificateExpirationDateUtc: '2027-03-04T05:06:07.000Z',
        issuingCertificateAuthority: 'CN=Test CA,O=Test',
        callerInfo: 'azure-scep-ca-test/1.0',
      },
    });
    expect(fake.violations).toEqual([]);
  });

  it('ok/failureNotification sends a signed 32-bit hResult and cuts the description to 255 characters', async () => {
    const c = client();
    await c.validateRequest('tx-1', csr.base64);
    const r = await c.failureNotification({
      transactionId: 'tx-1',
      certificateRequest: csr.base64,
      hResult: 0x80004005,
      errorDescription: 'é'.repeat(300),
    });
    expect(r.ok).toBe(true);
    const n = (fake.calls[1]!.body as { notification: { hResult: number; errorDescription: string } })
      .notification;
    expect(n.hResult).toBe(-2147467259);
    expect(n.errorDescription).toHaveLength(255);
    expect(fake.violations).toEqual([]);
  });

  it('ok/finds the service case-insensitively in discovery', async () => {
    fake.discoveryMode = 'lowercase-name';
    expect((await client().validateRequest('tx-1', csr.base64)).ok).toBe(true);
  });

  it('ok/authenticates with a certificate client assertion', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const keys = {
      privateKey: await crypto.subtle.importKey(
        'pkcs8',
        privateKey.export({ type: 'pkcs8', format: 'der' }),
        { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
        false,
        ['sign'],
      ),
      publicKey: await crypto.subtle.importKey(
        'spki',
        publicKey.export({ type: 'spki', format: 'der' }),
        { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
        true,
        ['verify'],
      ),
    };
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      name: 'CN=app credential',
      keys,
      signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
      serialNumber: '01',
      notBefore: new Date('2020-01-01'),
      notAfter: new Date('2040-01-01'),
    });
    fake.clientCertificatePem = cert.toString('pem');
    const pem = `${privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()}\n${cert.toString('pem')}`;
    const c = client({ credential: certificateCredential(pem, fake.clientId) });
    expect((await c.validateRequest('tx-1', csr.base64)).ok).toBe(true);
    expect(fake.tokenRequests.every((t) => t.assertion)).toBe(true);
  });
});

describe('IntuneClient: fail', () => {
  const codes = [...IntuneResultCodes.filter((c) => c !== 'Success'), 'SomeCodeFromTheFuture'];
  it.each(codes)('fail/validateRequest answered %s is a failure carrying the code', async (code) => {
    fake.script({ action: 'validateRequest', outcome: { code, errorDescription: `because ${code}` } });
    const r = await client().validateRequest('tx-1', csr.base64);
    expect(r).toMatchObject({
      ok: false,
      kind: 'code',
      code,
      errorDescription: `because ${code}`,
      httpStatus: 200,
    });
    if (!r.ok) expect(intuneReason(r)).toBe(`intune:${code}`);
  });

  it('fail/"success" in another case is not Success', async () => {
    fake.script({ outcome: { code: 'success' } });
    expect(await client().validateRequest('tx-1', csr.base64)).toMatchObject({
      ok: false,
      kind: 'code',
      code: 'success',
    });
  });

  it('fail/HTTP 500 with a JSON body keeps status and code', async () => {
    fake.script({ outcome: { status: 500 } });
    const r = await client().validateRequest('tx-1', csr.base64);
    expect(r).toMatchObject({ ok: false, kind: 'http', httpStatus: 500, code: 'InternalServerError' });
    if (!r.ok) expect(intuneReason(r)).toBe('intune:http-500');
  });

  it('fail/HTTP 500 with a non-JSON body', async () => {
    fake.script({ outcome: { status: 500, json: false } });
    const r = await client().validateRequest('tx-1', csr.base64);
    expect(r).toMatchObject({ ok: false, kind: 'http', httpStatus: 500, code: undefined });
    if (!r.ok) expect(r.message).toMatch(/not JSON/);
  });

  it('fail/HTTP 200 with a non-JSON body is a bad response, not a success', async () => {
    fake.script({ outcome: { status: 200, json: false, body: 'OK' } });
    expect(await client().validateRequest('tx-1', csr.base64)).toMatchObject({
      ok: false,
      kind: 'bad-response',
    });
  });

  it('fail/HTTP 401 (app lacks scep_challenge_provider) drops the cached Intune token', async () => {
    fake.scepRoleGranted = false;
    const c = client();
    expect(await c.validateRequest('tx-1', csr.base64)).toMatchObject({
      ok: false,
      kind: 'http',
      httpStatus: 401,
    });
    fake.scepRoleGranted = true;
    expect((await c.validateRequest('tx-2', csr.base64)).ok).toBe(true);
    expect(fake.tokenRequests.filter((t) => t.scope === INTUNE_DOUBLE_SLASH_SCOPE)).toHaveLength(2);
  });

  it('fail/no answer within the time box is a timeout, and discovery is NOT fetched again (the address is not stale)', async () => {
    fake.script({ outcome: { hang: true }, times: 1 });
    const c = client({ timeoutMs: 300 });
    expect(await c.validateRequest('tx-1', csr.base64)).toMatchObject({ ok: false, kind: 'timeout' });
    expect((await c.validateRequest('tx-2', csr.base64)).ok).toBe(true);
    expect(fake.discoveryRequests).toHaveLength(1);
  });

  it('fail/repeated HTTP 500s do not re-read discovery; a 404 does (37 Graph calls for 73 Intune calls)', async () => {
    fake.script({ outcome: { status: 500 }, times: 5 });
    const c = client();
    for (let i = 0; i < 5; i++)
      expect(await c.validateRequest(`tx-500-${i}`, csr.base64)).toMatchObject({
        ok: false,
        httpStatus: 500,
      });
    expect((await c.validateRequest('tx-ok', csr.base64)).ok).toBe(true);
    expect(fake.discoveryRequests).toHaveLength(1);
    fake.script({ outcome: { status: 404 }, times: 1 });
    expect(await c.validateRequest('tx-404', csr.base64)).toMatchObject({ ok: false, httpStatus: 404 });
    expect((await c.validateRequest('tx-after', csr.base64)).ok).toBe(true);
    expect(fake.discoveryRequests).toHaveLength(2);
  });

  it('fail/a network error clears the discovery cache so a moved service is found again', async () => {
    const realUri = fake.serviceUri;
    fake.serviceUri = 'http://127.0.0.1:1/RACerts/ScepRequestValidationFEService';
    const c = client();
    expect(await c.validateRequest('tx-1', csr.base64)).toMatchObject({ ok: false, kind: 'network' });
    fake.serviceUri = realUri;
    expect((await c.validateRequest('tx-2', csr.base64)).ok).toBe(true);
    expect(fake.discoveryRequests).toHaveLength(2);
  });

  it('fail/discovery without ScepRequestValidationFEService makes no Intune call', async () => {
    fake.discoveryMode = 'missing-service';
    const r = await client().validateRequest('tx-1', csr.base64);
    expect(r).toMatchObject({ ok: false, kind: 'service-not-found' });
    expect(fake.calls).toHaveLength(0);
  });

  it.each(['http-500', 'no-value'] as const)('fail/discovery %s is a discovery failure', async (mode) => {
    fake.discoveryMode = mode;
    expect(await client().validateRequest('tx-1', csr.base64)).toMatchObject({
      ok: false,
      kind: 'discovery',
    });
    expect(fake.calls).toHaveLength(0);
  });

  it.each([
    [400, 'invalid_request', 900144],
    [401, 'invalid_client', 7000215],
  ])(
    'fail/token endpoint %i is a token failure naming the AADSTS code, not cached',
    async (status, error, aadsts) => {
      fake.tokenFault = { status, error, aadsts };
      const c = client();
      const r = await c.validateRequest('tx-1', csr.base64);
      expect(r).toMatchObject({ ok: false, kind: 'token', httpStatus: status });
      if (!r.ok) expect(r.message).toContain(`AADSTS${aadsts}`);
      if (!r.ok) expect(r.message).not.toContain(fake.clientSecret);
      await c.validateRequest('tx-2', csr.base64);
      expect(fake.tokenRequests).toHaveLength(2);
      expect(fake.calls).toHaveLength(0);
    },
  );

  it('fail/a wrong secret is refused by the token endpoint', async () => {
    const r = await client({ credential: { kind: 'secret', secret: 'wrong' } }).validateRequest(
      'tx-1',
      csr.base64,
    );
    expect(r).toMatchObject({ ok: false, kind: 'token', httpStatus: 401 });
  });

  it('fail/empty transactionId or CSR is refused before any request', async () => {
    const c = client();
    expect(await c.validateRequest('', csr.base64)).toMatchObject({ ok: false, kind: 'invalid-argument' });
    expect(await c.validateRequest('tx', '')).toMatchObject({ ok: false, kind: 'invalid-argument' });
    expect(fake.tokenRequests).toHaveLength(0);
  });

  it('fail/successNotification answered HTTP 500 is a failure', async () => {
    const c = client();
    await c.validateRequest('tx-1', csr.base64);
    fake.script({ action: 'successNotification', outcome: { status: 500 } });
    expect(await c.successNotification(success('tx-1', csr.base64))).toMatchObject({
      ok: false,
      httpStatus: 500,
    });
  });
});

describe('fake Intune service: it refuses what Intune would refuse', () => {
  async function post(path: string, headers: Record<string, string>, body: unknown): Promise<number> {
    const c = client();
    await c.validateRequest('tx-0', csr.base64); // warm a token
    const token = await c.tokens.getToken(INTUNE_DOUBLE_SLASH_SCOPE);
    if (!token.ok) throw new Error('no token');
    const res = await fetch(`${fake.serviceUri}/ScepActions/${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token.token}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    return res.status;
  }
  const id = () => crypto.randomUUID();

  it('fail/wrong wrapper key, missing api-version, reused client-request-id', async () => {
    const fixed = id();
    const body = { request: { transactionId: 't', certificateRequest: csr.base64, callerInfo: 'x' } };
    expect(
      await post('validateRequest', { 'api-version': '2018-02-20', 'client-request-id': fixed }, body),
    ).toBe(200);
    expect(
      await post('validateRequest', { 'api-version': '2018-02-20', 'client-request-id': fixed }, body),
    ).toBe(400);
    expect(await post('validateRequest', { 'client-request-id': id() }, body)).toBe(400);
    expect(
      await post('successNotification', { 'api-version': '2018-02-20', 'client-request-id': id() }, body),
    ).toBe(400);
    expect(fake.violations.join('\n')).toMatch(
      /reused[\s\S]*api-version[\s\S]*exactly one property "notification"/,
    );
  });

  it('fail/a notification whose CSR differs from the validated one', async () => {
    const other = await makeIntuneCsr({ challenge: 'other', subject: 'CN=other' });
    const c = client();
    await c.validateRequest('tx-9', csr.base64);
    const r = await c.successNotification(success('tx-9', other.base64));
    expect(r).toMatchObject({ ok: false, httpStatus: 400 });
    expect(fake.violations).toEqual([
      "successNotification: certificateRequest differs from validateRequest's",
    ]);
  });
});
