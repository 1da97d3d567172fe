import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT } from 'jose';
import type * as x509 from '@peculiar/x509';
import {
  authenticateCsrRequest,
  authorizeCsr,
  createRestAuth,
  type RestAuthDeps,
} from '../../lib/rest/authorize.js';
import { restSection, type RestSettings } from '../../lib/config/rest.js';
import type { Env } from '../../lib/config/parse.js';
import { RenewalRule } from '../../lib/enroll/renewal-rule.js';
import { MemoryCertificateStore } from '../../lib/store/memory.js';
import { isAppError } from '../../lib/errors.js';
import { FakeJwksServer, makeSigningKey, type TestSigningKey } from '../fakes/jwks-server.js';
import { issue, makeCa, recordFor, type TestCa } from '../fakes/rest-pki.js';

const TENANT = '0c6f3b2a-1d4e-4f5a-8b9c-0d1e2f3a4b5c';
const APP = '6a1c2b3d-4e5f-4a6b-9c7d-8e9f0a1b2c3d';
const OID = '1f2e3d4c-5b6a-4978-8a9b-0c1d2e3f4a5b';
const NOW = new Date('2025-06-01T12:00:00Z');
const SUBJECT = 'CN=svc-backup.contoso.com';

let jwks: FakeJwksServer;
let key: TestSigningKey;
let ca: TestCa;
let store: MemoryCertificateStore;
let current: x509.X509Certificate;

beforeAll(async () => {
  key = await makeSigningKey('k1');
  jwks = await FakeJwksServer.start([key]);
  ca = await makeCa('CN=Contoso Issuing CA');
  store = new MemoryCertificateStore();
  current = await issue(ca, { subject: SUBJECT, sans: [{ type: 'dns', value: 'svc-backup.contoso.com' }] });
  await store.create(recordFor(current, 'api'));
});
afterAll(() => jwks.close());

function settings(extra: Env = {}): RestSettings {
  const r = restSection({
    AppConfig__DbCSRValidation__Enabled: 'true',
    AppConfig__AuthConfig__TenantId: TENANT,
    AppConfig__AuthConfig__ApplicationId: APP,
    AppConfig__DbCSRValidation__JwksUrl: jwks.url,
    AppConfig__DbCSRValidation__AllowRenewals: 'true',
    AppConfig__DbCSRValidation__ClientCertificateHeader: 'X-ARR-ClientCert',
    ...extra,
  });
  if (!r.ok) throw new Error(r.problems.join('\n'));
  return r.value;
}
const PROFILE = { validityDays: 30, keyUsage: ['DigitalSignature'], ekus: [] } as const;
const rule = (): RenewalRule =>
  new RenewalRule({
    caCertificates: [ca.der],
    store,
    profileOf: () => ({ issuance: PROFILE, policy: [] }),
    now: () => NOW,
  });
const deps = (extra: Env = {}): RestAuthDeps =>
  createRestAuth(settings(extra), {
    rule: rule(),
    realm: 'https://ca.contoso.com',
    now: () => NOW,
  });

const token = (roles: string[] = ['CSR.Request.Db']): Promise<string> =>
  new SignJWT({
    aud: APP,
    iss: `https://login.microsoftonline.com/${TENANT}/v2.0`,
    tid: TENANT,
    oid: OID,
    azp: '9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b',
    roles,
    nbf: Math.floor(NOW.getTime() / 1000) - 60,
    exp: Math.floor(NOW.getTime() / 1000) + 3600,
  })
    .setProtectedHeader({ alg: 'RS256', kid: key.kid })
    .sign(key.privateKey);
const clientCert = (): string => Buffer.from(current.rawData).toString('base64');

async function failure(
  p: Promise<unknown>,
): Promise<{ code: string; detail: Record<string, unknown> | undefined }> {
  const e: unknown = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  if (!isAppError(e)) throw new Error(`expected an AppError, got ${String(e)}`);
  return { code: e.code, detail: e.detail };
}

describe('REST API authentication and authorization', () => {
  it('ok/a token with the role authorizes the request as api', async () => {
    const d = deps();
    const headers = new Headers({ Authorization: `Bearer ${await token()}` });
    const cred = await authenticateCsrRequest(headers, d);
    const a = await authorizeCsr(cred, headers, d);
    expect(a).toMatchObject({
      ok: true,
      authorization: 'api',
      requester: `entra:${OID}`,
      principal: { oid: OID },
    });
  });

  it('fail/answers 401 with a bare Bearer challenge when there is neither token nor certificate', async () => {
    const f = await failure(authenticateCsrRequest(new Headers(), deps()));
    expect(f).toEqual({
      code: 'UNAUTHORIZED',
      detail: { reason: 'missing_token', wwwAuthenticate: 'Bearer realm="https://ca.contoso.com"' },
    });
  });

  it('fail/answers 401 invalid_token for a bad token, 403 insufficient_scope for a missing role', async () => {
    const bad = await failure(authenticateCsrRequest(new Headers({ Authorization: 'Bearer x.y.z' }), deps()));
    expect(bad.code).toBe('UNAUTHORIZED');
    expect(bad.detail?.wwwAuthenticate).toMatch(/error="invalid_token"/);
    const norole = await failure(
      authenticateCsrRequest(new Headers({ Authorization: `Bearer ${await token(['Other'])}` }), deps()),
    );
    expect(norole).toMatchObject({ code: 'FORBIDDEN', detail: { reason: 'missing_role' } });
    expect(norole.detail?.wwwAuthenticate).toMatch(/error="insufficient_scope"/);
  });

  it('ok/a client certificate we issued authorizes its own renewal', async () => {
    const d = deps();
    const headers = new Headers({ 'X-ARR-ClientCert': clientCert() });
    const cred = await authenticateCsrRequest(headers, d);
    expect(cred.kind).toBe('client-certificate');
    const serialNumber = recordFor(current, 'api').serialNumber;
    expect(await authorizeCsr(cred, headers, d)).toMatchObject({
      ok: true,
      authorization: 'renewal',
      requester: `certificate:${serialNumber}`,
      renewedFrom: { serialNumber },
    });
  });

  it('ok/simplereenroll mode takes the client certificate even when a token comes with it', async () => {
    const headers = new Headers({
      Authorization: `Bearer ${await token()}`,
      'X-ARR-ClientCert': clientCert(),
    });
    expect((await authenticateCsrRequest(headers, deps(), { renewalOnly: true })).kind).toBe(
      'client-certificate',
    );
  });

  it('fail/simplereenroll mode answers 401 without a client certificate, even with a token', async () => {
    const headers = new Headers({ Authorization: `Bearer ${await token()}` });
    const f = await failure(authenticateCsrRequest(headers, deps(), { renewalOnly: true }));
    expect(f).toEqual({ code: 'UNAUTHORIZED', detail: { reason: 'no_client_certificate' } });
  });

  it('fail/simplereenroll mode answers 403 when renewals are off', async () => {
    const d = deps({ AppConfig__DbCSRValidation__AllowRenewals: 'false' });
    const headers = new Headers({ 'X-ARR-ClientCert': clientCert() });
    const f = await failure(authenticateCsrRequest(headers, d, { renewalOnly: true }));
    expect(f).toEqual({ code: 'FORBIDDEN', detail: { reason: 'not_configured' } });
  });

  it('fail/ignores the certificate header when renewals are off', async () => {
    const d = deps({ AppConfig__DbCSRValidation__AllowRenewals: 'false' });
    expect(d.renewal).toBeUndefined();
    const f = await failure(authenticateCsrRequest(new Headers({ 'X-ARR-ClientCert': clientCert() }), d));
    expect(f.detail?.reason).toBe('missing_token');
  });

  it('ok/a token wins over a client certificate sent alongside', async () => {
    const headers = new Headers({
      Authorization: `Bearer ${await token()}`,
      'X-ARR-ClientCert': clientCert(),
    });
    expect((await authenticateCsrRequest(headers, deps())).kind).toBe('token');
  });

  it('fail/refuses to build without a tenant', () => {
    const s = settings();
    const broken: RestSettings = { ...s, auth: { ...s.auth, tenantId: undefined } };
    let caught: unknown;
    try {
      createRestAuth(broken, { rule: rule() });
    } catch (e) {
      caught = e;
    }
    expect(isAppError(caught) && caught.code).toBe('CONFIG_INVALID');
  });
});
