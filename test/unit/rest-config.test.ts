import { describe, expect, it } from 'vitest';
import { restSection, restValidityDays, type RestSettings } from '../../lib/config/rest.js';
import type { Env } from '../../lib/config/parse.js';
import { loadSettings } from '../../lib/config/index.js';
import { isAppError } from '../../lib/errors.js';

const TENANT = '0c6f3b2a-1d4e-4f5a-8b9c-0d1e2f3a4b5c';
const APP = '6a1c2b3d-4e5f-4a6b-9c7d-8e9f0a1b2c3d';
const ENABLED: Env = {
  AppConfig__DbCSRValidation__Enabled: 'true',
  AppConfig__AuthConfig__TenantId: TENANT,
  AppConfig__AuthConfig__ApplicationId: APP,
};

function ok(env: Env): RestSettings {
  const r = restSection(env);
  if (!r.ok) throw new Error(r.problems.join('\n'));
  return r.value;
}
function problems(env: Env): string[] {
  const r = restSection(env);
  return r.ok ? [] : r.problems;
}

describe('REST settings (AppConfig__DbCSRValidation__*)', () => {
  it('ok/is off by default and needs nothing then', () => {
    const s = ok({});
    expect(s.enabled).toBe(false);
    expect(s.allowRenewals).toBe(false);
    expect(s.clientCertificateHeader).toBeUndefined();
    expect(s.renewableAuthorizations).toEqual(['api', 'renewal']);
    expect(s.auth.requiredRole).toBe('CSR.Request.Db');
    expect(s.auth.authorityHost).toBe('https://login.microsoftonline.com');
    expect(s.keyUsage).toEqual(['DigitalSignature', 'KeyEncipherment']);
    expect(s.ekus).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
  });

  it('ok/takes key usage and EKUs for the issued certificates; fail/names a bad one', () => {
    const s = ok({
      AppConfig__DbCSRValidation__DefaultKeyUsage: 'digitalsignature',
      AppConfig__DbCSRValidation__DefaultEkus: '1.3.6.1.5.5.7.3.2',
    });
    expect(s.keyUsage).toEqual(['DigitalSignature']);
    expect(s.ekus).toEqual(['1.3.6.1.5.5.7.3.2']);
    expect(problems({ AppConfig__DbCSRValidation__DefaultKeyUsage: 'KeyCertSign' })[0]).toMatch(
      /unknown key usage "KeyCertSign"/,
    );
    expect(problems({ AppConfig__DbCSRValidation__DefaultEkus: 'serverAuth' })[0]).toMatch(
      /"serverAuth" is not an OID/,
    );
  });

  it('fail/needs a tenant and an audience when enabled, listed together', () => {
    const p = problems({ AppConfig__DbCSRValidation__Enabled: 'true' });
    expect(p).toHaveLength(2);
    expect(p[0]).toMatch(/^AppConfig__AuthConfig__TenantId: required/);
    expect(p[1]).toMatch(/ApplicationIdUri or AppConfig__AuthConfig__ApplicationId/);
  });

  it('fail/needs the tenant as a GUID, since tokens carry the GUID', () => {
    expect(problems({ ...ENABLED, AppConfig__AuthConfig__TenantId: 'contoso.onmicrosoft.com' })[0]).toMatch(
      /directory \(tenant\) id as a GUID/,
    );
  });

  it('ok/accepts the client id and its default app ID URI as audiences', () => {
    expect(ok(ENABLED).auth.audiences).toEqual([APP, `api://${APP}`]);
    const withUri = ok({ ...ENABLED, AppConfig__AuthConfig__ApplicationIdUri: 'https://ca.contoso.com/api' });
    expect(withUri.auth.audiences).toEqual(['https://ca.contoso.com/api', APP]);
    const uriOnly = ok({
      ...ENABLED,
      AppConfig__AuthConfig__ApplicationId: '',
      AppConfig__AuthConfig__ApplicationIdUri: 'api://scep',
    });
    expect(uriOnly.auth.audiences).toEqual(['api://scep']);
  });

  it('ok/lower-cases the tenant and the header name, and uses the shared authority', () => {
    const s = ok({
      ...ENABLED,
      AppConfig__AuthConfig__TenantId: TENANT.toUpperCase(),
      AppConfig__AuthConfig__Authority: 'https://login.microsoftonline.us/',
      AppConfig__DbCSRValidation__AllowRenewals: 'true',
      AppConfig__DbCSRValidation__ClientCertificateHeader: 'X-ARR-ClientCert',
      AppConfig__DbCSRValidation__RequiredRole: 'Certs.Enroll',
    });
    expect(s.auth.tenantId).toBe(TENANT);
    expect(s.auth.authorityHost).toBe('https://login.microsoftonline.us');
    expect(s.clientCertificateHeader).toBe('x-arr-clientcert');
    expect(s.auth.requiredRole).toBe('Certs.Enroll');
  });

  it('ok/maps SCEPman certificate type names to record authorizations', () => {
    const s = ok({
      AppConfig__DbCSRValidation__ReenrollmentAllowedCertificateTypes:
        'Static, IntuneUser;intunedevice,DbCSR',
    });
    expect(s.renewableAuthorizations).toEqual(['static', 'intune', 'api']);
  });

  it('fail/names an unknown certificate type and the allowed ones', () => {
    expect(
      problems({ AppConfig__DbCSRValidation__ReenrollmentAllowedCertificateTypes: 'Static,JamfComputer' })[0],
    ).toMatch(
      /unknown certificate type "JamfComputer" \(allowed: Static, IntuneUser, IntuneDevice, DbCSR, Account, Renewal\)/,
    );
  });

  it('fail/needs a client certificate header when renewals are allowed', () => {
    expect(problems({ ...ENABLED, AppConfig__DbCSRValidation__AllowRenewals: 'true' })[0]).toMatch(
      /^AppConfig__DbCSRValidation__ClientCertificateHeader: required/,
    );
    expect(
      problems({ ...ENABLED, AppConfig__DbCSRValidation__ClientCertificateHeader: 'bad header' })[0],
    ).toMatch(/expected an HTTP header name/);
  });

  it('fail/takes a JWKS address over https, or http only on this machine', () => {
    expect(problems({ AppConfig__DbCSRValidation__JwksUrl: 'http://keys.example.com/keys' })[0]).toMatch(
      /https:\/\//,
    );
    expect(ok({ AppConfig__DbCSRValidation__JwksUrl: 'http://127.0.0.1:8080/keys' }).auth.jwksUrl).toBe(
      'http://127.0.0.1:8080/keys',
    );
  });

  it('fail/takes the authority and Graph over https, or http only on this machine: keys, secrets and tokens go there', () => {
    const startProblems = (env: Env): string[] => {
      try {
        loadSettings({ ...env, AppConfig__StaticValidation__Enabled: 'false' });
        return [];
      } catch (e) {
        return isAppError(e) && Array.isArray(e.detail?.problems) ? (e.detail.problems as string[]) : [];
      }
    };
    // The default JWKS address is under the authority: keys fetched in clear could be anyone's.
    expect(
      startProblems({ ...ENABLED, AppConfig__AuthConfig__Authority: 'http://login.microsoftonline.com/' }),
    ).toEqual([expect.stringMatching(/^AppConfig__AuthConfig__Authority: expected an https:\/\//)]);
    expect(
      startProblems({ ...ENABLED, AppConfig__IntuneValidation__GraphBaseUrl: 'http://graph.microsoft.com/' }),
    ).toEqual([expect.stringMatching(/^AppConfig__IntuneValidation__GraphBaseUrl: expected an https:\/\//)]);
    expect(startProblems({ ...ENABLED, AppConfig__AuthConfig__Authority: 'http://127.0.0.1:8080/' })).toEqual(
      [],
    );
  });

  it('ok/lets ValidityPeriodDays only shorten the global cap', () => {
    expect(restValidityDays(ok({ AppConfig__DbCSRValidation__ValidityPeriodDays: '365' }), 730)).toBe(365);
    expect(restValidityDays(ok({ AppConfig__DbCSRValidation__ValidityPeriodDays: '1000' }), 730)).toBe(730);
    expect(restValidityDays(ok({}), 730)).toBe(730);
    expect(problems({ AppConfig__DbCSRValidation__ValidityPeriodDays: '0' })[0]).toMatch(
      /whole number from 1/,
    );
  });
});
