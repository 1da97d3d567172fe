import { describe, expect, it } from 'vitest';
import { loadSettings } from '../../lib/config/index.js';
import { isAppError } from '../../lib/errors.js';
import { IntuneClient } from '../../lib/intune/client.js';
import type { Endpoint, IntuneConnection } from '../../lib/model/endpoint.js';
import { DEFAULT_PROFILE } from '../../lib/model/profile.js';
import { tenantsToPull, type TenantSources } from '../../lib/revocation/intune-tenants.js';
import { MemoryDocumentStore } from '../../lib/store/documents-memory.js';

const T1 = '11111111-1111-1111-1111-111111111111';
const T2 = '22222222-2222-2222-2222-222222222222';
const APP = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa';
const APP2 = 'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb';

const client = (tenantId: string, clientId = APP): IntuneClient =>
  new IntuneClient({
    tenantId,
    clientId,
    credential: { kind: 'secret', secret: 'unused' },
    authority: 'http://127.0.0.1:9/',
    graphBase: 'http://127.0.0.1:9/graph/',
    providerNameAndVersion: 'test/1.0',
  });

async function sources(
  stored: readonly Partial<Endpoint>[],
  builtIn?: { tenantId: string; revocationEnabled: boolean },
): Promise<{ s: TenantSources; clients: Map<string, IntuneClient>; builtInClient: IntuneClient }> {
  const docs = new MemoryDocumentStore();
  const endpoints = docs.collection<Endpoint>('endpoints');
  for (const e of stored) {
    const name = e.name ?? 'x';
    await endpoints.create({
      id: name,
      name,
      displayName: name,
      type: 'device-intune',
      enabled: true,
      profile: DEFAULT_PROFILE,
      delegatedTo: [],
      createdAt: '2026-01-01T00:00:00Z',
      updatedAt: '2026-01-01T00:00:00Z',
      ...e,
    });
  }
  const clients = new Map<string, IntuneClient>();
  const builtInClient = client(builtIn?.tenantId ?? T1);
  return {
    clients,
    builtInClient,
    s: {
      builtIn: builtIn ? { ...builtIn, client: builtInClient } : undefined,
      endpoints,
      clientFor: (c: IntuneConnection) => {
        const key = `${c.tenantId}/${c.applicationId}`;
        const made = clients.get(key) ?? client(c.tenantId, c.applicationId);
        clients.set(key, made);
        return made;
      },
    },
  };
}

const connection = (
  tenantId: string,
  revocationEnabled?: boolean,
  applicationId = APP,
): IntuneConnection => ({
  tenantId,
  applicationId,
  credential: { kind: 'managedIdentity' },
  ...(revocationEnabled === undefined ? {} : { revocationEnabled }),
});

describe('Intune revocation: which tenants are pulled, and what each may revoke', () => {
  it('ok/one pull per tenant with revocation on, each scoped to its own endpoints', async () => {
    const { s, clients } = await sources([
      { name: 'a', intune: connection(T1, true), delegatedTo: [{ organization: 'org-a' }] },
      { name: 'b', intune: connection(T2, true) },
      { name: 'lab', type: 'device-scep' },
    ]);
    const tenants = await tenantsToPull(s);
    expect(
      tenants.map((t) => [t.tenantId, t.actor, [...t.endpoints], [...t.disabled], t.place, t.client]),
    ).toEqual([
      [T1, `intune:${T1}`, ['a'], [], { endpoint: 'a', organization: 'org-a' }, clients.get(`${T1}/${APP}`)],
      [T2, `intune:${T2}`, ['b'], [], { endpoint: 'b' }, clients.get(`${T2}/${APP}`)],
    ]);
    expect(clients.size).toBe(2);
  });

  it('ok/revocation is off by default: endpoints without the field and the built-in with it off are not pulled', async () => {
    const { s } = await sources([{ name: 'old', intune: connection(T2) }], {
      tenantId: T1,
      revocationEnabled: false,
    });
    expect(await tenantsToPull(s)).toEqual([]);
  });

  it('ok/the built-in and a stored endpoint of the same tenant share one pull (the built-in client) and one scope', async () => {
    const { s, builtInClient } = await sources(
      [
        { name: 'also-t1', intune: connection(T1.toUpperCase(), true, APP2) },
        { name: 't1-off', intune: connection(T1, false) },
      ],
      { tenantId: T1, revocationEnabled: true },
    );
    const [t, ...rest] = await tenantsToPull(s);
    expect(rest).toEqual([]);
    expect(t?.client).toBe(builtInClient);
    expect(t?.actor).toBe('intune');
    expect([...(t?.endpoints ?? [])]).toEqual(['intune', 'also-t1']);
    expect([...(t?.disabled ?? [])]).toEqual(['t1-off']);
  });

  it('ok/two app registrations of one tenant: one pull, with the first endpoint by name that has revocation on', async () => {
    const { s, clients } = await sources([
      { name: 'a-off', intune: connection(T2, false, APP) },
      { name: 'b-on', intune: connection(T2, true, APP2) },
      { name: 'c-on', intune: connection(T2, true, APP) },
    ]);
    const [t, ...rest] = await tenantsToPull(s);
    expect(rest).toEqual([]);
    expect(t?.client).toBe(clients.get(`${T2}/${APP2}`));
    expect(t?.place).toEqual({ endpoint: 'b-on' });
    expect([...(t?.endpoints ?? [])]).toEqual(['b-on', 'c-on']);
    expect([...(t?.disabled ?? [])]).toEqual(['a-off']);
  });

  it("fail/the settings-defined tenant named by its domain cannot pull revocations: stored endpoints name it by GUID, and two pulls of one tenant answer each other's requests as not found", () => {
    const env = {
      AppConfig__StaticValidation__Enabled: 'false',
      AppConfig__IntuneValidation__Enabled: 'true',
      AppConfig__IntuneValidation__RevocationEnabled: 'true',
      AppConfig__AuthConfig__ApplicationId: APP,
      AppConfig__AuthConfig__ApplicationKey: 'app-secret',
      AzureWebJobsStorage: 'UseDevelopmentStorage=true',
    };
    const problems = (tenantId: string): string[] => {
      try {
        loadSettings({ ...env, AppConfig__AuthConfig__TenantId: tenantId });
        return [];
      } catch (e) {
        return isAppError(e) && Array.isArray(e.detail?.problems) ? (e.detail.problems as string[]) : [];
      }
    };
    expect(problems('contoso.onmicrosoft.com')).toEqual([
      expect.stringMatching(/^AppConfig__AuthConfig__TenantId: .*GUID/),
    ]);
    expect(problems(T1)).toEqual([]);
  });
});
