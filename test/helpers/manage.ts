import { SignJWT } from 'jose';
import { FakeJwksServer, makeSigningKey } from '../fakes/jwks-server.js';

export interface ApiAnswer {
  readonly status: number;
  readonly headers: Headers;
  // Tests read fields of whatever JSON came back.
  readonly body: Record<string, unknown> & { value?: Record<string, unknown>[] };
}

/** A JSON client of the management API with one bearer credential. */
export function manageClient(baseUrl: string, credential: string | undefined) {
  return async (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<ApiAnswer> => {
    const res = await fetch(`${baseUrl}/api/manage/${path}`, {
      method,
      headers: {
        ...(credential !== undefined ? { authorization: `Bearer ${credential}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return {
      status: res.status,
      headers: res.headers,
      body: text === '' ? {} : (JSON.parse(text) as ApiAnswer['body']),
    };
  };
}
export type ManageClient = ReturnType<typeof manageClient>;

const TENANT = '5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b';
const API = '1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d';

/** An Entra ID stand-in for the management API: settings for the host, tokens with CA.* roles. */
export async function startManageIdentity() {
  const key = await makeSigningKey('manage-test');
  const jwks = await FakeJwksServer.start([key]);
  return {
    settings: {
      AppConfig__AuthConfig__TenantId: TENANT,
      AppConfig__AuthConfig__ApplicationId: API,
      AppConfig__Management__JwksUrl: jwks.url,
    },
    token: (oid: string, roles: readonly string[], groups: readonly string[] = []): Promise<string> => {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({
        aud: `api://${API}`,
        iss: `https://sts.windows.net/${TENANT}/`,
        tid: TENANT,
        oid,
        appid: '8d7c6b5a-4f3e-4d2c-9b1a-0f9e8d7c6b5a',
        roles: [...roles],
        groups: [...groups],
        nbf: now - 60,
        exp: now + 3600,
      })
        .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' })
        .sign(key.privateKey);
    },
    close: () => jwks.close(),
  };
}
