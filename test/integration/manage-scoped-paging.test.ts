import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getApp } from '../../lib/app.js';
import { startTestHost, type TestHost } from '../helpers/host.js';
import { manageClient, startManageIdentity, type ManageClient } from '../helpers/manage.js';
import { testRecord } from '../unit/store-contract.js';

const OPERATOR_IT = '1e1e1e1e-0000-4000-8000-00000000001e';
const AUDITOR_TWO = '2f2f2f2f-0000-4000-8000-00000000002f';

/** Every page of a list with `top`, following the continuation until it runs out. */
async function pages(client: ManageClient, path: string, top: number): Promise<string[][]> {
  const out: string[][] = [];
  let token: unknown = undefined;
  for (let i = 0; i < 50; i++) {
    const sep = path.includes('?') ? '&' : '?';
    const cont = typeof token === 'string' ? `&continuationToken=${encodeURIComponent(token)}` : '';
    const r = await client('GET', `${path}${sep}top=${top}${cont}`);
    expect(r.status).toBe(200);
    out.push((r.body.value ?? []).map((v) => String(v.serialNumber ?? v.name ?? v.id)));
    token = r.body.continuationToken;
    if (token === null || token === undefined) return out;
  }
  throw new Error(`${path}: the continuation never ended`);
}

/**
 * Regression: lists filtered by the caller's delegation after the store's page came back short
 * or empty while more matches followed. A scoped caller now gets full pages, and the last page
 * carries no continuation.
 */
describe('scoped management lists page fully', () => {
  let host: TestHost;
  let identity: Awaited<ReturnType<typeof startManageIdentity>>;
  let admin: ManageClient;
  let operatorIt: ManageClient;
  let auditorTwo: ManageClient;
  const inScopeSerials: string[] = [];
  const inScopeEndpoints: string[] = [];

  beforeAll(async () => {
    identity = await startManageIdentity();
    host = await startTestHost(identity.settings);
    admin = manageClient(host.baseUrl, host.adminKey);
    const departments = [
      { id: 'it', displayName: 'IT' },
      { id: 'hr', displayName: 'HR' },
    ];
    for (let i = 0; i < 30; i++) {
      const id = `org-${String(i).padStart(2, '0')}`;
      expect((await admin('POST', 'organizations', { id, displayName: id, departments })).status).toBe(201);
    }
    const scopes = {
      [OPERATOR_IT]: [{ organization: 'org-07', department: 'it' }],
      [AUDITOR_TWO]: [{ organization: 'org-03' }, { organization: 'org-26' }],
    };
    for (const [id, s] of Object.entries(scopes)) {
      expect((await admin('PUT', `administrators/${id}`, { scopes: s })).status).toBe(200);
    }
    operatorIt = manageClient(host.baseUrl, await identity.token(OPERATOR_IT, ['CA.Operator']));
    auditorTwo = manageClient(host.baseUrl, await identity.token(AUDITOR_TWO, ['CA.Auditor']));

    const app = await getApp();
    for (let n = 1; n <= 200; n++) {
      const mine = n === 17 || n === 101 || n === 188;
      const owner = mine
        ? { organization: 'org-07', department: 'it' }
        : n % 2 === 0
          ? { organization: 'org-07', department: 'hr' }
          : { organization: `org-${String(n % 30).padStart(2, '0')}`, department: 'hr' };
      const r = await app.store.create(testRecord(n, { endpoint: 'static', ...owner }));
      if (!r.created) throw new Error('record not created');
      if (mine) inScopeSerials.push(r.record.serialNumber);
    }
    for (let n = 0; n < 40; n++) {
      const name = `ep-${String(n).padStart(2, '0')}`;
      const mine = n === 4 || n === 22 || n === 39;
      const delegatedTo = [{ organization: 'org-07', department: mine ? 'it' : 'hr' }];
      const r = await admin('POST', 'endpoints', {
        name,
        type: 'device-scep',
        displayName: name,
        delegatedTo,
      });
      expect(r.status).toBe(201);
      if (mine) inScopeEndpoints.push(name);
    }
  });

  afterAll(async () => {
    await host.close();
    await identity.close();
  });

  it('regression/certificate search in a department scope returns full pages and ends exactly', async () => {
    const got = await pages(operatorIt, 'certificates', 2);
    expect(got.map((p) => p.length)).toEqual([2, 1]);
    expect(got.flat().sort()).toEqual([...inScopeSerials].sort());
  });

  it('regression/certificate search one at a time sees each match once, then no token', async () => {
    const got = await pages(operatorIt, 'certificates?status=issued', 1);
    expect(got.map((p) => p.length)).toEqual([1, 1, 1]);
    expect(new Set(got.flat()).size).toBe(3);
  });

  it('regression/endpoint list in a department scope returns full pages and ends exactly', async () => {
    const got = await pages(operatorIt, 'endpoints', 2);
    expect(got.map((p) => p.length)).toEqual([2, 1]);
    expect(got.flat()).toEqual(inScopeEndpoints);
  });

  it('regression/organization list for a two-organization scope returns one full page', async () => {
    const got = await pages(auditorTwo, 'organizations', 2);
    expect(got).toEqual([['org-03', 'org-26']]);
  });

  it('ok/CA.Admin still pages the whole store as before', async () => {
    const got = await pages(admin, 'organizations', 10);
    expect(got.map((p) => p.length)).toEqual([10, 10, 10]);
  });
});
