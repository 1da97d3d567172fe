import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getApp } from '../../lib/app.js';
import { startTestHost, type TestHost } from '../helpers/host.js';
import { manageClient, startManageIdentity, type ManageClient } from '../helpers/manage.js';
import { testRecord } from '../unit/store-contract.js';

const OPERATOR_IT = '3a3a3a3a-0000-4000-8000-00000000003a';
const OPERATOR_ORG = '3b3b3b3b-0000-4000-8000-00000000003b';

/**
 * Writes respect the caller's scope as strictly as reads: a department's operator reads what is
 * delegated to the whole organization, but creates, changes, moves and revokes only what belongs
 * to its own department; an organization's operator uses any department of it, or none.
 */
describe('management writes stay in the owner scope', () => {
  let host: TestHost;
  let identity: Awaited<ReturnType<typeof startManageIdentity>>;
  let admin: ManageClient;
  let itOp: ManageClient;
  let orgOp: ManageClient;
  const serials = { orgWide: '', it: '' };

  const account = async (body: Record<string, unknown>): Promise<string> => {
    const r = await admin('POST', 'endpoints/lab/accounts', body);
    expect(r.status).toBe(201);
    return String(r.body.id);
  };
  const owner = async (id: string): Promise<unknown> => {
    const r = await admin('GET', `endpoints/lab/accounts/${id}`);
    return [r.body.organization, r.body.department];
  };
  const refusedOwner = (r: { status: number; body: Record<string, unknown> }): void => {
    expect(r.status).toBe(403);
    expect(r.body).toMatchObject({
      type: 'about:blank',
      status: 403,
      code: 'FORBIDDEN',
      reason: 'owner_out_of_scope',
    });
    expect(String(r.body.detail)).toMatch(/department/);
  };

  beforeAll(async () => {
    identity = await startManageIdentity();
    host = await startTestHost(identity.settings);
    admin = manageClient(host.baseUrl, host.adminKey);
    const departments = ['it', 'hr'].map((id) => ({ id, displayName: id.toUpperCase() }));
    expect(
      (await admin('POST', 'organizations', { id: 'org-a', displayName: 'A', departments })).status,
    ).toBe(201);
    const itDept = { organization: 'org-a', department: 'it' };
    for (const [id, scope] of [
      [OPERATOR_IT, itDept],
      [OPERATOR_ORG, { organization: 'org-a' }],
    ] as const) {
      expect((await admin('PUT', `administrators/${id}`, { scopes: [scope] })).status).toBe(200);
    }
    const delegatedTo = [{ organization: 'org-a' }];
    expect((await admin('POST', 'endpoints', { name: 'lab', type: 'device-scep', delegatedTo })).status).toBe(
      201,
    );
    itOp = manageClient(host.baseUrl, await identity.token(OPERATOR_IT, ['CA.Operator']));
    orgOp = manageClient(host.baseUrl, await identity.token(OPERATOR_ORG, ['CA.Operator']));
    const app = await getApp();
    for (const [n, key, department] of [
      [41, 'orgWide', undefined],
      [42, 'it', 'it'],
    ] as const) {
      const r = await app.store.create(
        testRecord(n, { endpoint: 'lab', organization: 'org-a', department, subject: `CN=d-${key}` }),
      );
      if (!r.created) throw new Error('record not created');
      serials[key] = r.record.serialNumber;
    }
  });

  afterAll(async () => {
    await host.close();
    await identity.close();
  });

  it('ok/a department operator creates in its department, named or not', async () => {
    const r = await itOp('POST', 'endpoints/lab/accounts', { name: 'own' });
    expect(r.status).toBe(201);
    expect([r.body.organization, r.body.department]).toEqual(['org-a', 'it']);
    const named = await itOp('POST', 'endpoints/lab/accounts', {
      name: 'n',
      organization: 'org-a',
      department: 'it',
    });
    expect(named.status).toBe(201);
    const c = await itOp('POST', 'endpoints/lab/challenges', {});
    expect(c.status).toBe(201);
    expect(await owner(String(c.body.id))).toEqual(['org-a', 'it']);
  });

  it('fail/a department operator cannot create an organization-wide or sibling account (403)', async () => {
    refusedOwner(await itOp('POST', 'endpoints/lab/accounts', { name: 'x', organization: 'org-a' }));
    refusedOwner(await itOp('POST', 'endpoints/lab/accounts', { name: 'x', department: 'hr' }));
    refusedOwner(await itOp('POST', 'endpoints/lab/challenges', { organization: 'org-a' }));
    refusedOwner(await itOp('POST', 'endpoints/lab/challenges', { department: 'hr' }));
    const names = (await admin('GET', 'endpoints/lab/accounts')).body.value?.map((a) => a.name);
    expect(names).not.toContain('x');
  });

  it('fail/an owner of the wrong type is 400, not a scope refusal', async () => {
    const id = await account({ name: 'typed', organization: 'org-a', department: 'it' });
    for (const [method, path, body, pointer] of [
      ['POST', 'endpoints/lab/accounts', { name: 'x', organization: 42 }, '/organization'],
      ['POST', 'endpoints/lab/accounts', { name: 'x', department: 7 }, '/department'],
      ['POST', 'endpoints/lab/challenges', { organization: 42 }, '/organization'],
      ['PATCH', `endpoints/lab/accounts/${id}`, { department: 7 }, '/department'],
    ] as const) {
      const r = await itOp(method, path, body);
      expect([path, r.status, r.body.code]).toEqual([path, 400, 'BAD_REQUEST']);
      expect(r.body.errors).toEqual([expect.objectContaining({ pointer })]);
    }
    expect(await owner(id)).toEqual(['org-a', 'it']);
  });

  it('fail/a department operator cannot move its account to the whole organization (403)', async () => {
    const id = await account({ name: 'mine', organization: 'org-a', department: 'it' });
    refusedOwner(await itOp('PATCH', `endpoints/lab/accounts/${id}`, { department: null }));
    refusedOwner(await itOp('PATCH', `endpoints/lab/accounts/${id}`, { organization: null }));
    refusedOwner(
      await itOp('PATCH', `endpoints/lab/accounts/${id}`, { organization: 'org-a', department: null }),
    );
    expect(await owner(id)).toEqual(['org-a', 'it']);
    expect((await itOp('PATCH', `endpoints/lab/accounts/${id}`, { enabled: false })).status).toBe(200);
  });

  it('fail/a department operator reads but cannot change or delete an organization-wide account (403)', async () => {
    const id = await account({ name: 'shared', organization: 'org-a' });
    const unowned = await account({ name: 'endpoint-owned' });
    for (const a of [id, unowned]) {
      expect((await itOp('GET', `endpoints/lab/accounts/${a}`)).status).toBe(200);
      refusedOwner(await itOp('PATCH', `endpoints/lab/accounts/${a}`, { enabled: false }));
      refusedOwner(await itOp('PATCH', `endpoints/lab/accounts/${a}`, { department: 'it' }));
      refusedOwner(await itOp('DELETE', `endpoints/lab/accounts/${a}`));
      expect((await admin('GET', `endpoints/lab/accounts/${a}`)).body.enabled).toBe(true);
    }
  });

  it('fail/a department operator revokes its department’s certificates, not organization-wide ones', async () => {
    refusedOwner(await itOp('POST', `certificates/${serials.orgWide}/revoke`, { reason: 'superseded' }));
    expect((await admin('GET', `certificates/${serials.orgWide}`)).body.status).toBe('issued');
    const r = await itOp('POST', `certificates/${serials.it}/revoke`, { reason: 'superseded' });
    expect(r.status).toBe(200);
  });

  it('ok/a department operator sees its own department of the organization, not its siblings', async () => {
    const ids = (v: unknown): unknown => (v as { id: string }[] | undefined)?.map((d) => d.id);
    expect(ids((await itOp('GET', 'organizations/org-a')).body.departments)).toEqual(['it']);
    expect(ids((await itOp('GET', 'organizations')).body.value?.[0]?.departments)).toEqual(['it']);
    expect(ids((await itOp('GET', 'organizations/org-a/departments')).body.value)).toEqual(['it']);
    expect(ids((await orgOp('GET', 'organizations/org-a')).body.departments)).toEqual(['it', 'hr']);
  });

  it('ok/a department operator does not read its sibling department’s changes in the audit trail', async () => {
    const patch = { displayName: 'People' };
    expect((await admin('PATCH', 'organizations/org-a/departments/hr', patch)).status).toBe(200);
    const changes = async (client: ManageClient): Promise<unknown[]> =>
      ((await client('GET', 'audit?organization=org-a&outcome=changed')).body.value ?? [])
        .filter((e) => String(e.operation).startsWith('department.'))
        .map((e) => [e.operation, e.department, e.changes]);
    expect(await changes(itOp)).toEqual([]);
    expect(await changes(orgOp)).toEqual([
      ['department.update', 'hr', [{ field: 'displayName', before: 'HR', after: 'People' }]],
    ]);
  });

  it('ok/an account moved to another department is in the audit trail of both departments', async () => {
    const id = await account({ name: 'leaving', organization: 'org-a', department: 'it' });
    expect((await orgOp('PATCH', `endpoints/lab/accounts/${id}`, { department: 'hr' })).status).toBe(200);
    const moves = async (client: ManageClient): Promise<unknown[]> =>
      ((await client('GET', 'audit?endpoint=lab&outcome=changed')).body.value ?? [])
        .filter((e) => String(e.message).includes(id) && e.operation !== 'account.create')
        .map((e) => [e.operation, e.department])
        .sort();
    expect(await moves(itOp)).toEqual([['account.move', 'it']]);
    expect(await moves(orgOp)).toEqual([
      ['account.move', 'it'],
      ['account.update', 'hr'],
    ]);
  });

  it('ok/the organization reads the changes of an account owned through the endpoint’s delegation', async () => {
    const id = String((await admin('POST', 'endpoints/lab/challenges', {})).body.id);
    const r = await orgOp('GET', 'audit?endpoint=lab&outcome=changed');
    const created = r.body.value?.find((e) => String(e.message).includes(id));
    expect(created).toMatchObject({ operation: 'challenge.create', organization: 'org-a' });
  });

  it('ok/an organization operator uses any department of it, or the whole organization', async () => {
    const r = await orgOp('POST', 'endpoints/lab/accounts', { name: 'o', organization: 'org-a' });
    expect(r.status).toBe(201);
    const id = String(r.body.id);
    expect((await orgOp('PATCH', `endpoints/lab/accounts/${id}`, { department: 'hr' })).status).toBe(200);
    expect(await owner(id)).toEqual(['org-a', 'hr']);
    expect((await orgOp('POST', `certificates/${serials.orgWide}/revoke`, {})).status).toBe(200);
  });
});
