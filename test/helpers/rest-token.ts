import { SignJWT } from 'jose';
import { FakeJwksServer, makeSigningKey, type TestSigningKey } from '../fakes/jwks-server.js';

/**
 * An Entra ID stand-in for POST /api/csr through the local host: a JWKS server, the settings
 * that point the app at it, and access tokens carrying the CSR.Request.Db role.
 */
export interface RestIdentity {
  /** AppConfig__DbCSRValidation__* and AppConfig__AuthConfig__* for the host. */
  readonly settings: Record<string, string>;
  token(): Promise<string>;
  close(): Promise<void>;
}

const TENANT = '3f1c2b3d-4e5f-4a6b-9c7d-8e9f0a1b2c3d';
const API = '7b2d3c4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e';

export async function startRestIdentity(kid = 'rest-test'): Promise<RestIdentity> {
  const key: TestSigningKey = await makeSigningKey(kid);
  const jwks = await FakeJwksServer.start([key]);
  return {
    settings: {
      AppConfig__DbCSRValidation__Enabled: 'true',
      AppConfig__AuthConfig__TenantId: TENANT,
      AppConfig__AuthConfig__ApplicationId: API,
      AppConfig__DbCSRValidation__JwksUrl: jwks.url,
    },
    token: () => {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({
        aud: `api://${API}`,
        iss: `https://sts.windows.net/${TENANT}/`,
        tid: TENANT,
        oid: '2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d',
        appid: '8d7c6b5a-4f3e-4d2c-9b1a-0f9e8d7c6b5a',
        roles: ['CSR.Request.Db'],
        nbf: now - 60,
        exp: now + 3600,
      })
        .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' })
        .sign(key.privateKey);
    },
    close: () => jwks.close(),
  };
}
