import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { intuneSection } from '../../lib/config/intune.js';
import { IntuneConnections } from '../../lib/intune/connections.js';
import { startFakeIntune } from '../fakes/intune-server.js';
import { snapshotProcessEnv } from '../helpers/process-env.js';

/**
 * Stored Intune connections with the function app's managed identity as a federated credential:
 * the identity's token is asked for the cloud's token exchange audience, as for the
 * settings-defined connection. The managed identity endpoint is App Service's (IDENTITY_ENDPOINT,
 * IDENTITY_HEADER), answered on 127.0.0.1 and driven through @azure/identity.
 */

let server: Server;
let restoreEnv: () => void;
const resources: string[] = [];
/** The managed identity endpoint takes requests and never answers. */
let hang = false;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (hang) return;
    resources.push(new URL(req.url ?? '/', 'http://127.0.0.1').searchParams.get('resource') ?? '');
    const expiresOn = String(Math.floor(Date.now() / 1000) + 3600);
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ access_token: 'mi-token', expires_on: expiresOn, token_type: 'Bearer' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  restoreEnv = snapshotProcessEnv();
  process.env.IDENTITY_ENDPOINT = `http://127.0.0.1:${(server.address() as AddressInfo).port}/msi/token`;
  process.env.IDENTITY_HEADER = 'app-service-header';
});
afterAll(() => {
  restoreEnv();
  server.closeAllConnections();
  server.close();
});

const connection = {
  tenantId: '11111111-2222-3333-4444-555555555555',
  applicationId: '66666666-7777-8888-9999-000000000000',
  credential: { kind: 'managedIdentity' },
} as const;

describe('Intune connections of stored endpoints', () => {
  it("ok/a managed identity connection asks for the cloud's token exchange audience (FederatedTokenAudience)", async () => {
    const s = intuneSection({
      AppConfig__AuthConfig__FederatedTokenAudience: 'api://AzureADTokenExchangeUSGov',
      // Nothing answers here: only the managed identity token is looked at.
      AppConfig__AuthConfig__Authority: 'http://127.0.0.1:9/',
    });
    if (!s.ok) throw new Error(s.problems.join('; '));
    const connections = new IntuneConnections(s.value, () => Promise.reject(new Error('no secret')));
    const client = connections.clientFor(connection);
    await client.tokens.getToken(client.intuneScope);
    expect(resources).toEqual(['api://AzureADTokenExchangeUSGov']);
  });

  it('fail/a managed identity endpoint that does not answer fails the token request within the time box, and the next one asks again', async () => {
    const s = intuneSection({
      AppConfig__IntuneValidation__RequestTimeoutSeconds: '1',
      AppConfig__AuthConfig__Authority: 'http://127.0.0.1:9/',
    });
    if (!s.ok) throw new Error(s.problems.join('; '));
    const client = new IntuneConnections(s.value, () => Promise.reject(new Error('no secret'))).clientFor(
      connection,
    );
    hang = true;
    const started = performance.now();
    const r = await Promise.race([
      client.tokens.getToken(client.intuneScope),
      new Promise((resolve) => {
        setTimeout(() => {
          resolve('still waiting');
        }, 10_000);
      }),
    ]);
    expect(r).toMatchObject({ ok: false, kind: 'token', message: expect.stringContaining('assertion') });
    expect(performance.now() - started).toBeLessThan(5_000);
    // Callers sharing that request were released with it; the next one reaches the identity again.
    hang = false;
    resources.splice(0);
    await client.tokens.getToken(client.intuneScope);
    expect(resources).toHaveLength(1);
  }, 20_000);

  it('fail/a rotated client secret: after Entra ID answers invalid_client the next token request reads the secret again', async () => {
    const fake = await startFakeIntune();
    try {
      const tenant = fake.addTenant();
      const s = intuneSection({ AppConfig__AuthConfig__Authority: fake.url });
      if (!s.ok) throw new Error(s.problems.join('; '));
      // Key Vault hands out the old secret first, the rotated one after.
      const values = ['secret-before-rotation', tenant.clientSecret];
      let reads = 0;
      const connections = new IntuneConnections(s.value, () => Promise.resolve(values[reads++] ?? ''));
      const client = connections.clientFor({
        tenantId: tenant.tenantId,
        applicationId: tenant.clientId,
        credential: { kind: 'secret', keyVaultSecretUri: 'https://kv.vault.azure.net/secrets/intune' },
      });
      expect(await client.tokens.getToken(client.intuneScope)).toMatchObject({
        ok: false,
        message: expect.stringContaining('invalid_client') as unknown,
      });
      expect(await client.tokens.getToken(client.intuneScope)).toMatchObject({ ok: true });
      expect(reads).toBe(2);
    } finally {
      await fake.close();
    }
  });
});
