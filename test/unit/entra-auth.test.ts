import { KeyObject, createPublicKey } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SignJWT, base64url, type JWTPayload } from 'jose';
import {
  EntraTokenValidator,
  authFailureError,
  bearerChallenge,
  defaultJwksUrl,
  entraIssuers,
  type EntraAuthOptions,
  type EntraAuthResult,
} from '../../lib/auth/entra.js';
import { isAppError } from '../../lib/errors.js';
import { FakeJwksServer, makeSigningKey, type TestSigningKey } from '../fakes/jwks-server.js';

const TENANT = '0c6f3b2a-1d4e-4f5a-8b9c-0d1e2f3a4b5c';
const OTHER_TENANT = 'f00dfeed-0000-4000-8000-000000000001';
const CLIENT_ID = '6a1c2b3d-4e5f-4a6b-9c7d-8e9f0a1b2c3d';
const APP_ID_URI = `api://${CLIENT_ID}`;
const CALLER_APP = '9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b';
const CALLER_OID = '1f2e3d4c-5b6a-4978-8a9b-0c1d2e3f4a5b';
const NOW = new Date('2025-06-01T12:00:00Z');
const NOW_S = Math.floor(NOW.getTime() / 1000);
const V1_ISS = `https://sts.windows.net/${TENANT}/`;
const V2_ISS = `https://login.microsoftonline.com/${TENANT}/v2.0`;

let jwks: FakeJwksServer;
let key1: TestSigningKey;
let key2: TestSigningKey;
let stranger: TestSigningKey;

beforeAll(async () => {
  [key1, key2, stranger] = await Promise.all([
    makeSigningKey('k1'),
    makeSigningKey('k2'),
    makeSigningKey('zz'),
  ]);
  jwks = await FakeJwksServer.start([key1]);
});
afterAll(() => jwks.close());
beforeEach(() => {
  jwks.setKeys([key1]);
  jwks.setStatus(200);
  jwks.setHang(false);
  jwks.fetches = 0;
});

function validator(o: Partial<EntraAuthOptions> = {}): EntraTokenValidator {
  return new EntraTokenValidator({
    tenantId: TENANT,
    audiences: [APP_ID_URI, CLIENT_ID],
    requiredRole: 'CSR.Request.Db',
    authorityHost: 'https://login.microsoftonline.com',
    jwksUrl: jwks.url,
    now: () => NOW,
    ...o,
  });
}

/** A v2 app-only token as Entra issues it for client credentials, with overrides. */
function v2Claims(over: JWTPayload = {}): JWTPayload {
  return {
    aud: CLIENT_ID,
    iss: V2_ISS,
    iat: NOW_S - 300,
    nbf: NOW_S - 300,
    exp: NOW_S + 3600,
    azp: CALLER_APP,
    azpacr: '1',
    oid: CALLER_OID,
    sub: CALLER_OID,
    tid: TENANT,
    roles: ['CSR.Request.Db'],
    ver: '2.0',
    ...over,
  };
}

function v1Claims(over: JWTPayload = {}): JWTPayload {
  return {
    aud: APP_ID_URI,
    iss: V1_ISS,
    iat: NOW_S - 300,
    nbf: NOW_S - 300,
    exp: NOW_S + 3600,
    appid: CALLER_APP,
    appidacr: '1',
    idp: V1_ISS,
    oid: CALLER_OID,
    sub: CALLER_OID,
    tid: TENANT,
    roles: ['CSR.Request.Db'],
    ver: '1.0',
    ...over,
  };
}

const mint = (claims: JWTPayload, key: TestSigningKey = key1): Promise<string> =>
  new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' }).sign(key.privateKey);

const bearer = (t: string): string => `Bearer ${t}`;

function expectFailure(r: EntraAuthResult, reason: string, status = 401): void {
  expect(r.ok).toBe(false);
  if (r.ok) return;
  expect(r.reason).toBe(reason);
  expect(r.status).toBe(status);
}

describe('EntraTokenValidator: accepted tokens', () => {
  it('ok/accepts a v2 app token whose audience is the client id', async () => {
    const r = await validator().validate(bearer(await mint(v2Claims())));
    expect(r).toEqual({
      ok: true,
      principal: {
        oid: CALLER_OID,
        appId: CALLER_APP,
        tid: TENANT,
        sub: CALLER_OID,
        roles: ['CSR.Request.Db'],
        groups: [],
        tokenVersion: '2.0',
        delegated: false,
      },
    });
  });

  it('ok/reads the group object ids of the groups claim', async () => {
    const groups = ['0c0c0c0c-0000-4000-8000-00000000000c', '0d0d0d0d-0000-4000-8000-00000000000d'];
    const r = await validator().validate(bearer(await mint(v2Claims({ groups }))));
    expect(r.ok && r.principal.groups).toEqual(groups);
  });

  it('ok/with a list of required roles, any one of them is enough', async () => {
    const v = validator({ requiredRole: ['CA.Admin', 'CA.Operator', 'CA.Auditor'] });
    const r = await v.validate(bearer(await mint(v2Claims({ roles: ['CA.Auditor'] }))));
    expect(r.ok && r.principal.roles).toEqual(['CA.Auditor']);
    const none = await v.validate(bearer(await mint(v2Claims({ roles: ['CSR.Request.Db'] }))));
    expectFailure(none, 'missing_role', 403);
  });

  it('ok/accepts a v1 token (sts.windows.net issuer) whose audience is the app ID URI', async () => {
    const r = await validator().validate(bearer(await mint(v1Claims())));
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.principal.appId).toBe(CALLER_APP);
      expect(r.principal.tokenVersion).toBe('1.0');
    }
  });

  it('ok/accepts a tenant id configured in upper case and a lower-case scheme name', async () => {
    const r = await validator({ tenantId: TENANT.toUpperCase() }).validate(
      `bearer ${await mint(v2Claims())}`,
    );
    expect(r.ok).toBe(true);
  });

  it('ok/accepts a token that expired within the leeway', async () => {
    const r = await validator().validate(bearer(await mint(v2Claims({ exp: NOW_S - 30 }))));
    expect(r.ok).toBe(true);
  });

  it('ok/marks a delegated user token carrying scp', async () => {
    const r = await validator().validate(bearer(await mint(v2Claims({ scp: 'user_impersonation' }))));
    expect(r.ok && r.principal.delegated).toBe(true);
  });

  it('ok/fetches the key set once and serves later tokens from the cache', async () => {
    const v = validator();
    for (let i = 0; i < 3; i++) expect((await v.validate(bearer(await mint(v2Claims())))).ok).toBe(true);
    expect(jwks.fetches).toBe(1);
  });
});

describe('EntraTokenValidator: refused tokens', () => {
  it('fail/refuses a request without an Authorization header as missing_token', async () => {
    expectFailure(await validator().validate(undefined), 'missing_token');
    expectFailure(await validator().validate(''), 'missing_token');
  });

  it('fail/treats another scheme (Basic) as no bearer token', async () => {
    expectFailure(await validator().validate('Basic dXNlcjpwYXNz'), 'missing_token');
  });

  it('fail/refuses a bearer value that is not a JWT', async () => {
    expectFailure(await validator().validate('Bearer not-a-jwt'), 'malformed_token');
    expectFailure(await validator().validate('Bearer'), 'malformed_token');
    expectFailure(await validator().validate('Bearer a.b.c'), 'malformed_token');
    expect(jwks.fetches).toBe(0);
  });

  it('fail/refuses an expired token', async () => {
    expectFailure(await validator().validate(bearer(await mint(v2Claims({ exp: NOW_S - 600 })))), 'expired');
  });

  it('fail/refuses a token that is not valid yet', async () => {
    const t = await mint(v2Claims({ nbf: NOW_S + 600, iat: NOW_S + 600 }));
    expectFailure(await validator().validate(bearer(t)), 'not_yet_valid');
  });

  it('fail/refuses a token without exp', async () => {
    const claims = v2Claims();
    delete claims.exp;
    expectFailure(await validator().validate(bearer(await mint(claims))), 'malformed_token');
  });

  it('fail/refuses a token of another tenant, even when signed with the shared Entra keys', async () => {
    const t = await mint(
      v2Claims({ tid: OTHER_TENANT, iss: `https://login.microsoftonline.com/${OTHER_TENANT}/v2.0` }),
    );
    expectFailure(await validator().validate(bearer(t)), 'wrong_tenant');
  });

  it('fail/refuses a token whose issuer is not an Entra issuer of the tenant', async () => {
    const t = await mint(v2Claims({ iss: `https://evil.example/${TENANT}/v2.0` }));
    expectFailure(await validator().validate(bearer(t)), 'wrong_issuer');
  });

  it('fail/refuses a v1 token whose issuer names another tenant', async () => {
    const t = await mint(v1Claims({ iss: `https://sts.windows.net/${OTHER_TENANT}/` }));
    expectFailure(await validator().validate(bearer(t)), 'wrong_issuer');
  });

  it('fail/refuses an ID token (no appid or azp) even with the audience, tenant and role', async () => {
    // What a sign-in to the API's own registration returns: aud = its client id, roles, oid.
    // (undefined claims are left out of the JSON)
    const id = v2Claims({ azp: undefined, azpacr: undefined, nonce: 'n-1', preferred_username: 'a@contoso' });
    expectFailure(await validator().validate(bearer(await mint(id))), 'malformed_token');
    const v1Id = v1Claims({ aud: CLIENT_ID, appid: undefined, appidacr: undefined });
    expectFailure(await validator().validate(bearer(await mint(v1Id))), 'malformed_token');
  });

  it('fail/refuses a token whose audience is another app', async () => {
    const t = await mint(v2Claims({ aud: '00000003-0000-0000-c000-000000000000' }));
    expectFailure(await validator().validate(bearer(t)), 'wrong_audience');
  });

  it('fail/refuses a valid token without the app role with 403 missing_role', async () => {
    const t = await mint(v2Claims({ roles: ['Manage.All'] }));
    expectFailure(await validator().validate(bearer(t)), 'missing_role', 403);
    const noRoles = v2Claims();
    delete noRoles.roles;
    expectFailure(await validator().validate(bearer(await mint(noRoles))), 'missing_role', 403);
  });

  it('fail/honours a configured role name', async () => {
    const v = validator({ requiredRole: 'Certs.Enroll' });
    expectFailure(await v.validate(bearer(await mint(v2Claims()))), 'missing_role', 403);
    expect((await v.validate(bearer(await mint(v2Claims({ roles: ['Certs.Enroll'] }))))).ok).toBe(true);
  });

  it('fail/refuses alg none without looking up a key', async () => {
    const header = base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT', kid: 'k1' }));
    const body = base64url.encode(JSON.stringify(v2Claims()));
    expectFailure(await validator().validate(bearer(`${header}.${body}.`)), 'bad_algorithm');
    expectFailure(await validator().validate(bearer(`${header}.${body}`)), 'malformed_token');
    expect(jwks.fetches).toBe(0);
  });

  it('fail/refuses HS256 signed with the RSA public key (algorithm confusion)', async () => {
    const pem = createPublicKey({ key: key1.jwk as never, format: 'jwk' })
      .export({ format: 'pem', type: 'spki' })
      .toString();
    const t = await new SignJWT(v2Claims())
      .setProtectedHeader({ alg: 'HS256', kid: 'k1', typ: 'JWT' })
      .sign(new TextEncoder().encode(pem));
    expectFailure(await validator().validate(bearer(t)), 'bad_algorithm');
    expect(jwks.fetches).toBe(0);
  });

  it('fail/refuses RS384 and PS256 even with the right key', async () => {
    for (const alg of ['RS384', 'PS256']) {
      const anyAlgKey = KeyObject.from(key1.privateKey);
      const t = await new SignJWT(v2Claims()).setProtectedHeader({ alg, kid: 'k1' }).sign(anyAlgKey);
      expectFailure(await validator().validate(bearer(t)), 'bad_algorithm');
    }
  });

  it('fail/refuses a tampered signature', async () => {
    const [h, p, s] = (await mint(v2Claims())).split('.') as [string, string, string];
    const i = 40;
    const flipped = s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
    expectFailure(await validator().validate(bearer(`${h}.${p}.${flipped}`)), 'bad_signature');
  });

  it('fail/refuses a tampered payload (role added after signing)', async () => {
    const [h, , s] = (await mint(v2Claims({ roles: [] }))).split('.') as [string, string, string];
    const forged = base64url.encode(JSON.stringify(v2Claims()));
    expectFailure(await validator().validate(bearer(`${h}.${forged}.${s}`)), 'bad_signature');
  });

  it('fail/refuses a token signed by a key of the same kid that is not the published one', async () => {
    const t = await new SignJWT(v2Claims())
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .sign(stranger.privateKey);
    expectFailure(await validator().validate(bearer(t)), 'bad_signature');
  });

  it('fail/refuses an overlong Authorization header without parsing it', async () => {
    expectFailure(await validator().validate(`Bearer ${'a'.repeat(20_000)}.b.c`), 'malformed_token');
  });
});

describe('EntraTokenValidator: key set refresh', () => {
  it('fail/refetches the key set once for an unknown kid, then refuses it', async () => {
    const v = validator({ jwksCooldownMs: 0 });
    const r = await v.validate(bearer(await mint(v2Claims(), stranger)));
    expectFailure(r, 'unknown_key');
    expect(jwks.fetches).toBe(2); // initial load + one refresh
  });

  it('fail/does not refetch for unknown kids within the cooldown (no fetch amplification)', async () => {
    const v = validator({ jwksCooldownMs: 60_000 });
    expect((await v.validate(bearer(await mint(v2Claims())))).ok).toBe(true);
    for (let i = 0; i < 3; i++)
      expectFailure(await v.validate(bearer(await mint(v2Claims(), stranger))), 'unknown_key');
    expect(jwks.fetches).toBe(1);
  });

  it('ok/picks up a rotated key when a token names its new kid', async () => {
    const v = validator({ jwksCooldownMs: 0 });
    expect((await v.validate(bearer(await mint(v2Claims())))).ok).toBe(true);
    jwks.setKeys([key1, key2]);
    expect(await v.validate(bearer(await mint(v2Claims(), key2)))).toMatchObject({ ok: true });
    expect(jwks.fetches).toBe(2);
    jwks.setKeys([key2]); // k1 retired; the cached set still holds it until it is refreshed
    expect((await v.validate(bearer(await mint(v2Claims(), key2)))).ok).toBe(true);
    expect(jwks.fetches).toBe(2);
  });

  it('fail/reports DEPENDENCY_UNAVAILABLE when the key set answers 500', async () => {
    jwks.setStatus(500);
    const e: unknown = await validator()
      .validate(bearer(await mint(v2Claims())))
      .catch((x: unknown) => x);
    expect(isAppError(e) && e.code).toBe('DEPENDENCY_UNAVAILABLE');
  });

  it('fail/times out a key set fetch that hangs', async () => {
    jwks.setHang(true);
    const started = performance.now();
    const e: unknown = await validator({ jwksTimeoutMs: 150 })
      .validate(bearer(await mint(v2Claims())))
      .catch((x: unknown) => x);
    expect(isAppError(e) && e.code).toBe('DEPENDENCY_UNAVAILABLE');
    expect(performance.now() - started).toBeLessThan(3000);
  });
});

describe('issuers, JWKS address and WWW-Authenticate', () => {
  it('ok/derives v1 and v2 issuers for the public and sovereign clouds', () => {
    expect(entraIssuers('https://login.microsoftonline.com/', TENANT)).toEqual([V1_ISS, V2_ISS]);
    expect(entraIssuers('https://login.microsoftonline.us', TENANT)).toEqual([
      `https://sts.windows.net/${TENANT}/`,
      `https://login.microsoftonline.us/${TENANT}/v2.0`,
    ]);
    expect(entraIssuers('https://login.partner.microsoftonline.cn', TENANT)[0]).toBe(
      `https://sts.chinacloudapi.cn/${TENANT}/`,
    );
    expect(defaultJwksUrl('https://login.microsoftonline.com/', TENANT)).toBe(
      `https://login.microsoftonline.com/${TENANT}/discovery/v2.0/keys`,
    );
  });

  it('ok/omits the error code when no token was sent (RFC 6750 §3)', () => {
    const f = {
      ok: false,
      status: 401,
      reason: 'missing_token',
      message: 'a bearer token is required',
    } as const;
    expect(bearerChallenge(f)).toBe('Bearer realm="azure-scep-ca"');
  });

  it('ok/names invalid_token for a bad token and insufficient_scope for a missing role', () => {
    expect(
      bearerChallenge({ ok: false, status: 401, reason: 'expired', message: 'the token has expired' }),
    ).toBe('Bearer realm="azure-scep-ca", error="invalid_token", error_description="the token has expired"');
    const e = authFailureError(
      { ok: false, status: 403, reason: 'missing_role', message: 'lacks "x"\\' },
      'ca',
    );
    expect(e.code).toBe('FORBIDDEN');
    expect(e.detail).toEqual({
      reason: 'missing_role',
      wwwAuthenticate: 'Bearer realm="ca", error="insufficient_scope", error_description="lacks x"',
    });
    expect(authFailureError({ ok: false, status: 401, reason: 'expired', message: 'm' }).code).toBe(
      'UNAUTHORIZED',
    );
  });
});
