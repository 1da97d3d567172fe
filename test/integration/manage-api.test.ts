import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getApp } from '../../lib/app.js';
import type { CertificateRecord } from '../../lib/store/types.js';
import { startTestHost, type TestHost } from '../helpers/host.js';
import { manageClient, startManageIdentity, type ManageClient } from '../helpers/manage.js';
import { testRecord } from '../unit/store-contract.js';

const OPERATOR_A = '0a0a0a0a-0000-4000-8000-00000000000a';
const AUDITOR_A = '0b0b0b0b-0000-4000-8000-00000000000b';
const GROUP_B = '0c0c0c0c-0000-4000-8000-00000000000c';
const OPERATOR_A_IT = '0e0e0e0e-0000-4000-8000-00000000000e';

/** The management API through the local host: admin key, Entra roles, scope, ETags, paging. */
describe('management API', () => {
  let host: TestHost;
  let identity: Awaited<ReturnType<typeof startManageIdentity>>;
  let admin: ManageClient;
  let operatorA: ManageClient;
  let auditorA: ManageClient;
  let operatorB: ManageClient;
  let certA: CertificateRecord;
  let certB: CertificateRecord;

  beforeAll(async () => {
    identity = await startManageIdentity();
    host = await startTestHost(identity.settings);
    admin = manageClient(host.baseUrl, host.adminKey);
    operatorA = manageClient(host.baseUrl, await identity.token(OPERATOR_A, ['CA.Operator']));
    auditorA = manageClient(host.baseUrl, await identity.token(AUDITOR_A, ['CA.Auditor']));
    operatorB = manageClient(
      host.baseUrl,
      await identity.token('0d0d0d0d-0000-4000-8000-00000000000d', ['CA.Operator'], [GROUP_B]),
    );
    for (const id of ['org-a', 'org-b']) {
      const r = await admin('POST', 'organizations', {
        id,
        displayName: id.toUpperCase(),
        departments: [{ id: 'it', displayName: 'IT' }],
      });
      expect(r.status).toBe(201);
    }
    expect(
      (await admin('PUT', `administrators/${OPERATOR_A}`, { scopes: [{ organization: 'org-a' }] })).status,
    ).toBe(200);
    expect(
      (await admin('PUT', `administrators/${AUDITOR_A}`, { scopes: [{ organization: 'org-a' }] })).status,
    ).toBe(200);
    expect(
      (
        await admin('PUT', `administrators/${GROUP_B}`, {
          kind: 'group',
          scopes: [{ organization: 'org-b' }],
        })
      ).status,
    ).toBe(200);
    for (const [name, org] of [
      ['lab-a', 'org-a'],
      ['lab-b', 'org-b'],
    ] as const) {
      const r = await admin('POST', 'endpoints', {
        name,
        type: 'device-scep',
        displayName: name,
        delegatedTo: [{ organization: org }],
      });
      expect(r.status).toBe(201);
    }
    const app = await getApp();
    const a = await app.store.create(
      testRecord(1, { endpoint: 'lab-a', organization: 'org-a', subject: 'CN=kiosk-a, O=A' }),
    );
    const b = await app.store.create(
      testRecord(2, { endpoint: 'lab-b', organization: 'org-b', subject: 'CN=kiosk-b, O=B' }),
    );
    if (!a.created || !b.created) throw new Error('records not created');
    certA = a.record;
    certB = b.record;
  });

  afterAll(async () => {
    await host.close();
    await identity.close();
  });

  describe('authentication', () => {
    it('fail/no credential: 401 problem+json with a Bearer challenge', async () => {
      const r = await manageClient(host.baseUrl, undefined)('GET', 'endpoints');
      expect(r.status).toBe(401);
      expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(r.headers.get('www-authenticate')).toMatch(/^Bearer realm=/);
      expect(r.body).toMatchObject({ status: 401, code: 'UNAUTHORIZED', title: 'Unauthorized' });
    });

    it('fail/a wrong admin key is 401', async () => {
      expect((await manageClient(host.baseUrl, 'x'.repeat(43))('GET', 'endpoints')).status).toBe(401);
    });

    it('fail/a token without a CA.* role is 403', async () => {
      const r = await manageClient(host.baseUrl, await identity.token(OPERATOR_A, ['CSR.Request.Db']))(
        'GET',
        'endpoints',
      );
      expect(r.status).toBe(403);
      expect(r.body.reason).toBe('missing_role');
    });
  });

  describe('methods', () => {
    it('fail/a method a route does not serve is 405 with Allow and a problem body', async () => {
      for (const [method, path, allow] of [
        ['PUT', 'endpoints/lab-a', 'GET, PATCH, DELETE'],
        ['DELETE', 'endpoints', 'GET, POST'],
        ['GET', 'endpoints/lab-a/challenges', 'POST'],
        ['PATCH', 'administrators/x', 'GET, PUT, DELETE'],
        ['POST', 'certificates', 'GET'],
        ['GET', 'certificates/01/revoke', 'POST'],
        ['DELETE', 'audit', 'GET'],
        ['POST', 'ca-certificates/x', 'GET'],
        ['PUT', 'endpoints/lab-a/ra-certificates', 'GET, POST'],
      ] as const) {
        const res = await fetch(`${host.baseUrl}/api/manage/${path}`, {
          method,
          headers: { authorization: `Bearer ${host.adminKey}` },
        });
        expect([method, path, res.status, res.headers.get('allow')]).toEqual([method, path, 405, allow]);
        expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        expect(await res.json()).toMatchObject({ status: 405, code: 'METHOD_NOT_ALLOWED' });
      }
    });
  });

  describe('endpoints', () => {
    it('ok/POST creates with profile defaults; GET has an ETag; PATCH is a merge patch', async () => {
      const created = await admin('POST', 'endpoints', {
        name: 'lab',
        type: 'device-scep',
        displayName: 'Lab',
      });
      expect(created.status).toBe(201);
      expect(created.headers.get('location')).toMatch(/\/api\/manage\/endpoints\/lab$/);
      expect(created.body).toMatchObject({ name: 'lab', type: 'device-scep', enabled: true });
      expect(created.body.profile).toBeTypeOf('object');
      const read = await admin('GET', 'endpoints/lab');
      const etag = read.headers.get('etag');
      expect(etag).toMatch(/^".+"$/);
      const patched = await admin('PATCH', 'endpoints/lab', { enabled: false }, { 'if-match': etag ?? '' });
      expect(patched.status).toBe(200);
      expect(patched.body).toMatchObject({ enabled: false, displayName: 'Lab' });
      expect(patched.headers.get('etag')).not.toBe(etag);
    });

    it('ok/disabling an endpoint makes scep/{name} answer 404 on the next request; enabling brings it back', async () => {
      const caps = async (): Promise<number> =>
        (await fetch(`${host.baseUrl}/scep/flip?operation=GetCACaps`)).status;
      expect((await admin('POST', 'endpoints', { name: 'flip', type: 'device-scep' })).status).toBe(201);
      expect(await caps()).toBe(200);
      await admin('PATCH', 'endpoints/flip', { enabled: false });
      expect(await caps()).toBe(404);
      await admin('PATCH', 'endpoints/flip', { enabled: true });
      expect(await caps()).toBe(200);
      await admin('DELETE', 'endpoints/flip');
      expect(await caps()).toBe(404);
    });

    it('fail/PATCH with a stale If-Match is 412 and changes nothing', async () => {
      const stale = (await admin('GET', 'endpoints/lab')).headers.get('etag') ?? '';
      await admin('PATCH', 'endpoints/lab', { displayName: 'Lab 2' });
      const r = await admin('PATCH', 'endpoints/lab', { displayName: 'Lab 3' }, { 'if-match': stale });
      expect(r.status).toBe(412);
      expect(r.body.code).toBe('PRECONDITION_FAILED');
      expect((await admin('GET', 'endpoints/lab')).body.displayName).toBe('Lab 2');
    });

    it('fail/DELETE with a stale If-Match is 412', async () => {
      expect((await admin('DELETE', 'endpoints/lab', undefined, { 'if-match': '"nope"' })).status).toBe(412);
    });

    it('fail/an invalid endpoint is 400 listing every problem', async () => {
      const r = await admin('POST', 'endpoints', { name: 'Bad Name', type: 'nonsense', extra: 1 });
      expect(r.status).toBe(400);
      expect(r.body.code).toBe('BAD_REQUEST');
      const errors = r.body.errors as { pointer?: string; detail: string }[];
      expect(errors.length).toBeGreaterThanOrEqual(3);
      expect(errors.map((e) => e.pointer)).toEqual(expect.arrayContaining(['/name', '/type']));
    });

    it('fail/a name clash is 400', async () => {
      const r = await admin('POST', 'endpoints', { name: 'lab-a', type: 'device-scep' });
      expect(r.status).toBe(400);
      expect(JSON.stringify(r.body.errors)).toMatch(/exists/);
    });

    it('ok/lists page by page with top and continuationToken, built-ins first', async () => {
      const first = await admin('GET', 'endpoints?top=1');
      const firstNames = first.body.value?.map((e) => e.name);
      expect(firstNames?.[0]).toBe('static');
      const token = first.body.continuationToken;
      expect(token).toBeTypeOf('string');
      const next = await admin(
        'GET',
        `endpoints?top=1&continuationToken=${encodeURIComponent(String(token))}`,
      );
      expect(next.body.value).toHaveLength(1);
      expect(firstNames).not.toContain(next.body.value?.[0]?.name);
    });

    it('fail/top out of range is 400', async () => {
      expect((await admin('GET', 'endpoints?top=abc')).status).toBe(400);
    });

    it('ok/DELETE answers 204, then the endpoint is 404', async () => {
      await admin('POST', 'endpoints', { name: 'gone', type: 'client-scep' });
      expect((await admin('DELETE', 'endpoints/gone')).status).toBe(204);
      expect((await admin('GET', 'endpoints/gone')).status).toBe(404);
    });
  });

  describe('accounts and challenges', () => {
    it('ok/creating an account returns its challenge once; reads never show it', async () => {
      const r = await admin('POST', 'endpoints/lab-a/accounts', { name: 'kandji' });
      expect(r.status).toBe(201);
      expect(r.body.challenge).toMatch(/^[0-9A-F]{48}$/);
      expect(r.body.id).toBeTypeOf('string');
      const read = await admin('GET', `endpoints/lab-a/accounts/${String(r.body.id)}`);
      expect(read.status).toBe(200);
      expect(read.body).not.toHaveProperty('challenge');
      expect(JSON.stringify(read.body)).not.toMatch(/secret|hash|salt/);
      const list = await admin('GET', 'endpoints/lab-a/accounts');
      expect(JSON.stringify(list.body)).not.toContain(String(r.body.challenge).slice(16));
    });

    it('ok/an ndes account returns a username and password', async () => {
      const r = await admin('POST', 'endpoints/lab-a/accounts', { name: 'jamf', kind: 'ndes' });
      expect(r.status).toBe(201);
      expect(r.body).toMatchObject({ username: expect.any(String), password: expect.any(String) });
    });

    it('ok/disable with PATCH, delete with DELETE', async () => {
      const id = String((await admin('POST', 'endpoints/lab-a/accounts', { name: 'temp' })).body.id);
      expect((await admin('PATCH', `endpoints/lab-a/accounts/${id}`, { enabled: false })).body.enabled).toBe(
        false,
      );
      expect((await admin('DELETE', `endpoints/lab-a/accounts/${id}`)).status).toBe(204);
      expect((await admin('GET', `endpoints/lab-a/accounts/${id}`)).status).toBe(404);
    });

    it('ok/PATCH null removes an expiry, a use limit or a department (RFC 7396)', async () => {
      const body = {
        name: 'limited',
        organization: 'org-a',
        department: 'it',
        expiresAt: '2099-01-01T00:00:00Z',
        maxUses: 3,
      };
      const id = String((await admin('POST', 'endpoints/lab-a/accounts', body)).body.id);
      const patch = { expiresAt: null, maxUses: null, department: null };
      const r = await admin('PATCH', `endpoints/lab-a/accounts/${id}`, patch);
      expect(r.status).toBe(200);
      for (const read of [r.body, (await admin('GET', `endpoints/lab-a/accounts/${id}`)).body]) {
        expect(read).toMatchObject({ name: 'limited', organization: 'org-a', uses: 0 });
        expect(read).not.toHaveProperty('expiresAt');
        expect(read).not.toHaveProperty('maxUses');
        expect(read).not.toHaveProperty('department');
      }
      await admin('DELETE', `endpoints/lab-a/accounts/${id}`);
    });

    it('fail/an account or challenge of an unknown organization or department is 400', async () => {
      const id = String((await admin('POST', 'endpoints/lab-a/accounts', { name: 'typo' })).body.id);
      const cases: [string, string, Record<string, unknown>, string][] = [
        ['POST', 'endpoints/lab-a/accounts', { name: 'a', organization: 'nowhere' }, '/organization'],
        [
          'POST',
          'endpoints/lab-a/accounts',
          { name: 'a', organization: 'org-a', department: 'ghost' },
          '/department',
        ],
        ['POST', 'endpoints/lab-a/accounts', { name: 'a', department: 'it' }, '/department'],
        ['POST', 'endpoints/lab-a/challenges', { organization: 'nowhere' }, '/organization'],
        [
          'PATCH',
          `endpoints/lab-a/accounts/${id}`,
          { organization: 'org-a', department: 'ghost' },
          '/department',
        ],
      ];
      for (const [method, path, body, pointer] of cases) {
        const r = await admin(method, path, body);
        expect(r.status, JSON.stringify(body)).toBe(400);
        expect(r.body).toMatchObject({ code: 'BAD_REQUEST', errors: [expect.objectContaining({ pointer })] });
      }
      const names = (await admin('GET', 'endpoints/lab-a/accounts?top=1000')).body.value?.map((a) => a.name);
      expect(names).not.toContain('a');
      expect((await admin('GET', `endpoints/lab-a/accounts/${id}`)).body).not.toHaveProperty('organization');
      await admin('DELETE', `endpoints/lab-a/accounts/${id}`);
    });

    it('ok/POST challenges returns a one-time challenge and its expiry', async () => {
      const r = await admin('POST', 'endpoints/lab-a/challenges');
      expect(r.status).toBe(201);
      expect(r.body.challenge).toMatch(/^[0-9A-F]{48}$/);
      expect(r.headers.get('location')).toBe(`/api/manage/endpoints/lab-a/accounts/${String(r.body.id)}`);
      expect((await admin('GET', `endpoints/lab-a/accounts/${String(r.body.id)}`)).body).toMatchObject({
        kind: 'one-time',
        maxUses: 1,
      });
      expect(Date.parse(String(r.body.expiresAt)) - Date.now()).toBeGreaterThan(59 * 60_000);
    });
  });

  describe('scope and roles', () => {
    it('ok/an operator of org A sees only org A endpoints', async () => {
      const names = (await operatorA('GET', 'endpoints')).body.value?.map((e) => e.name);
      expect(names).toContain('lab-a');
      expect(names).not.toContain('lab-b');
    });

    it('fail/an operator of org A gets 404 for org B endpoint, account and certificate', async () => {
      const accountB = String((await admin('POST', 'endpoints/lab-b/accounts', { name: 'b' })).body.id);
      expect((await operatorA('GET', 'endpoints/lab-b')).status).toBe(404);
      expect((await operatorA('PATCH', 'endpoints/lab-b', { enabled: false })).status).toBe(404);
      expect((await operatorA('POST', 'endpoints/lab-b/accounts', { name: 'x' })).status).toBe(404);
      expect((await operatorA('GET', `endpoints/lab-b/accounts/${accountB}`)).status).toBe(404);
      expect((await operatorA('DELETE', `endpoints/lab-b/accounts/${accountB}`)).status).toBe(404);
      expect((await operatorA('POST', 'endpoints/lab-b/challenges')).status).toBe(404);
      expect((await operatorA('GET', `certificates/${certB.serialNumber}`)).status).toBe(404);
      expect((await operatorA('GET', 'organizations/org-b')).status).toBe(404);
      expect((await admin('GET', `endpoints/lab-b/accounts/${accountB}`)).status).toBe(200);
    });

    it('ok/an operator of org A creates accounts and challenges in org A, owned by org A', async () => {
      const r = await operatorA('POST', 'endpoints/lab-a/accounts', { name: 'op' });
      expect(r.status).toBe(201);
      expect(r.body.organization).toBe('org-a');
      expect((await operatorA('POST', 'endpoints/lab-a/challenges')).status).toBe(201);
    });

    it('fail/an operator cannot give an account to another organization (403)', async () => {
      expect(
        (await operatorA('POST', 'endpoints/lab-a/accounts', { name: 'x', organization: 'org-b' })).status,
      ).toBe(403);
    });

    it('fail/a department operator cannot move an account to another department (403)', async () => {
      expect(
        (await admin('POST', 'organizations/org-a/departments', { id: 'ops', displayName: 'Ops' })).status,
      ).toBe(201);
      await admin('PUT', `administrators/${OPERATOR_A_IT}`, {
        scopes: [{ organization: 'org-a', department: 'it' }],
      });
      const itOperator = manageClient(host.baseUrl, await identity.token(OPERATOR_A_IT, ['CA.Operator']));
      const body = { name: 'it-only', organization: 'org-a', department: 'it' };
      const id = String((await admin('POST', 'endpoints/lab-a/accounts', body)).body.id);
      const moved = await itOperator('PATCH', `endpoints/lab-a/accounts/${id}`, { department: 'ops' });
      expect(moved.status).toBe(403);
      expect((await admin('GET', `endpoints/lab-a/accounts/${id}`)).body.department).toBe('it');
      expect((await itOperator('PATCH', `endpoints/lab-a/accounts/${id}`, { enabled: false })).status).toBe(
        200,
      );
      await admin('DELETE', `endpoints/lab-a/accounts/${id}`);
      await admin('DELETE', `administrators/${OPERATOR_A_IT}`);
      expect((await admin('DELETE', 'organizations/org-a/departments/ops')).status).toBe(204);
    });

    it('fail/an operator cannot configure endpoints, organizations or administrators (403)', async () => {
      expect((await operatorA('POST', 'endpoints', { name: 'op-made', type: 'device-scep' })).status).toBe(
        403,
      );
      expect((await operatorA('PATCH', 'endpoints/lab-a', { enabled: false })).status).toBe(403);
      expect((await operatorA('POST', 'organizations', { id: 'x', displayName: 'X' })).status).toBe(403);
      expect((await operatorA('GET', 'administrators')).status).toBe(403);
    });

    it('fail/an auditor cannot write in scope (403) but reads', async () => {
      expect((await auditorA('GET', 'endpoints/lab-a')).status).toBe(200);
      expect((await auditorA('GET', 'endpoints/lab-a/accounts')).status).toBe(200);
      const refused = await auditorA('POST', 'endpoints/lab-a/accounts', { name: 'x' });
      expect(refused.body).toMatchObject({ status: 403, code: 'FORBIDDEN', reason: 'permission' });
      expect((await auditorA('POST', 'endpoints/lab-a/challenges')).status).toBe(403);
      const id = String((await admin('POST', 'endpoints/lab-a/accounts', { name: 'y' })).body.id);
      expect((await auditorA('PATCH', `endpoints/lab-a/accounts/${id}`, { enabled: false })).status).toBe(
        403,
      );
      expect((await auditorA('DELETE', `endpoints/lab-a/accounts/${id}`)).status).toBe(403);
      expect((await auditorA('GET', 'endpoints/lab-b')).status).toBe(404);
    });

    it('ok/a CA.Admin token sees and changes every organization', async () => {
      const entraAdmin = manageClient(host.baseUrl, await identity.token(OPERATOR_A, ['CA.Admin']));
      expect((await entraAdmin('GET', 'endpoints/lab-b')).status).toBe(200);
      expect((await entraAdmin('POST', 'endpoints/lab-b/challenges')).status).toBe(201);
      expect((await entraAdmin('GET', 'administrators')).status).toBe(200);
    });

    it('ok/an administrators document can only lower the token role', async () => {
      const both = manageClient(host.baseUrl, await identity.token(AUDITOR_A, ['CA.Operator']));
      await admin('PUT', `administrators/${AUDITOR_A}`, {
        role: 'CA.Auditor',
        scopes: [{ organization: 'org-a' }],
      });
      expect((await both('POST', 'endpoints/lab-a/challenges')).status).toBe(403);
      await admin('PUT', `administrators/${AUDITOR_A}`, { scopes: [{ organization: 'org-a' }] });
      expect((await both('POST', 'endpoints/lab-a/challenges')).status).toBe(201);
    });

    it('ok/a group scope applies to its members', async () => {
      expect((await operatorB('GET', 'endpoints/lab-b')).status).toBe(200);
      expect((await operatorB('GET', 'endpoints/lab-a')).status).toBe(404);
    });

    it('ok/certificate search is limited to the scope', async () => {
      const a = await operatorA('GET', 'certificates?search=kiosk');
      expect(a.body.value?.map((c) => c.serialNumber)).toEqual([certA.serialNumber]);
      const all = await admin('GET', 'certificates?search=kiosk');
      expect(all.body.value?.map((c) => c.serialNumber).sort()).toEqual(
        [certA.serialNumber, certB.serialNumber].sort(),
      );
    });
  });

  describe('certificates', () => {
    it('ok/search answers the contract shape', async () => {
      const r = await admin('GET', 'certificates?search=kiosk-b');
      expect(r.status).toBe(200);
      expect(r.body).toHaveProperty('continuationToken');
      expect(r.body.value?.[0]).toMatchObject({
        serialNumber: certB.serialNumber,
        subject: certB.subject,
        endpoint: 'lab-b',
        status: 'issued',
      });
    });

    it('ok/filters by serial, thumbprint, endpoint, organization and status', async () => {
      const serials = async (q: string): Promise<unknown[] | undefined> =>
        (await admin('GET', `certificates?${q}`)).body.value?.map((c) => c.serialNumber);
      expect(await serials(`serial=${certA.serialNumber.toUpperCase()}`)).toEqual([certA.serialNumber]);
      expect(await serials(`thumbprint=${certB.thumbprintSha256.toLowerCase()}`)).toEqual([
        certB.serialNumber,
      ]);
      expect(await serials('endpoint=lab-a')).toEqual([certA.serialNumber]);
      expect(await serials('organization=org-b&status=issued')).toEqual([certB.serialNumber]);
      expect(await serials('status=revoked&organization=org-b')).toEqual([]);
    });

    it('fail/an unknown filter or bad status is 400 listing both', async () => {
      const r = await admin('GET', 'certificates?colour=red&status=lost');
      expect(r.status).toBe(400);
      expect((r.body.errors as unknown[]).length).toBe(2);
    });

    it('ok/detail has the PEM; an unknown serial is 404', async () => {
      const r = await admin('GET', `certificates/${certA.serialNumber}`);
      expect(r.status).toBe(200);
      expect(r.body.certificate).toMatch(/^-----BEGIN CERTIFICATE-----\n/);
      expect(r.body).toMatchObject({ serialNumber: certA.serialNumber, organization: 'org-a' });
      expect((await admin('GET', 'certificates/abcdef')).status).toBe(404);
    });

    it('ok/detail (and revoke, which finds it the same way) takes a serial as openssl -text prints it', async () => {
      const colons = certB.serialNumber.toUpperCase().replace(/(..)(?=.)/g, '$1:');
      const r = await admin('GET', `certificates/${colons}`);
      expect(r.status).toBe(200);
      expect(r.body.serialNumber).toBe(certB.serialNumber);
    });

    it('fail/a revoke body with a misspelt field or not an object is 400, and nothing is revoked', async () => {
      const path = `certificates/${certA.serialNumber}/revoke`;
      for (const body of [{ reasons: 'keyCompromise' }, ['keyCompromise']]) {
        const r = await admin('POST', path, body);
        expect(r.status).toBe(400);
        expect(String(r.body.detail)).toMatch(/reason/);
      }
      expect((await admin('GET', `certificates/${certA.serialNumber}`)).body.status).toBe('issued');
    });
  });

  describe('organizations and departments', () => {
    it('ok/departments CRUD under an organization, guarded by the organization etag', async () => {
      expect(
        (await admin('POST', 'organizations/org-a/departments', { id: 'hr', displayName: 'HR' })).status,
      ).toBe(201);
      const read = await admin('GET', 'organizations/org-a/departments/hr');
      expect(read.body).toEqual({ id: 'hr', displayName: 'HR' });
      const etag = read.headers.get('etag') ?? '';
      expect(
        (
          await admin(
            'PATCH',
            'organizations/org-a/departments/hr',
            { displayName: 'People' },
            { 'if-match': etag },
          )
        ).status,
      ).toBe(200);
      expect(
        (
          await admin(
            'PATCH',
            'organizations/org-a/departments/hr',
            { displayName: 'X' },
            { 'if-match': etag },
          )
        ).status,
      ).toBe(412);
      expect((await admin('DELETE', 'organizations/org-a/departments/hr')).status).toBe(204);
      expect((await admin('GET', 'organizations/org-a/departments/hr')).status).toBe(404);
    });

    it('fail/an organization or department still delegated to or scoped is not deleted (409)', async () => {
      const r = await admin('DELETE', 'organizations/org-a');
      expect(r.status).toBe(409);
      expect(r.body.detail).toMatch(/endpoint lab-a/);
      expect((await admin('GET', 'organizations/org-a')).status).toBe(200);
      await admin('PATCH', 'endpoints/lab-a', { delegatedTo: [{ organization: 'org-a', department: 'it' }] });
      expect((await admin('DELETE', 'organizations/org-a/departments/it')).status).toBe(409);
      await admin('PATCH', 'endpoints/lab-a', { delegatedTo: [{ organization: 'org-a' }] });
      await admin('POST', 'organizations', { id: 'org-empty', displayName: 'Empty' });
      expect((await admin('DELETE', 'organizations/org-empty')).status).toBe(204);
    });

    it('fail/an organization or department that still owns accounts or challenges is not deleted (409)', async () => {
      const departments = ['ops', 'sales'].map((id) => ({ id, displayName: id }));
      expect(
        (await admin('POST', 'organizations', { id: 'org-d', displayName: 'D', departments })).status,
      ).toBe(201);
      const owned = { organization: 'org-d', department: 'ops' };
      const account = String(
        (await admin('POST', 'endpoints/lab-a/accounts', { name: 'd', ...owned })).body.id,
      );
      const sales = { organization: 'org-d', department: 'sales' };
      const challenge = String((await admin('POST', 'endpoints/lab-a/challenges', sales)).body.id);
      for (const [method, path, body] of [
        ['DELETE', 'organizations/org-d/departments/ops', undefined],
        ['PATCH', 'organizations/org-d', { departments: [] }],
        ['DELETE', 'organizations/org-d', undefined],
      ] as const) {
        const r = await admin(method, path, body);
        expect(r.status).toBe(409);
        expect(r.body.detail).toContain(`account ${account}`);
      }
      expect((await admin('DELETE', `endpoints/lab-a/accounts/${account}`)).status).toBe(204);
      expect((await admin('DELETE', 'organizations/org-d/departments/ops')).status).toBe(204);
      const r = await admin('DELETE', 'organizations/org-d');
      expect(r.status).toBe(409);
      expect(r.body.detail).toContain(`account ${challenge}`);
      expect((await admin('DELETE', `endpoints/lab-a/accounts/${challenge}`)).status).toBe(204);
      expect((await admin('DELETE', 'organizations/org-d')).status).toBe(204);
    });

    it('fail/a PATCH of the organization cannot drop a department still in use (409) or name one twice (400)', async () => {
      await admin('PATCH', 'endpoints/lab-a', { delegatedTo: [{ organization: 'org-a', department: 'it' }] });
      for (const departments of [[], null]) {
        const r = await admin('PATCH', 'organizations/org-a', { departments });
        expect(r.status).toBe(409);
        expect(r.body.detail).toMatch(/endpoint lab-a/);
      }
      const twice = [
        { id: 'it', displayName: 'IT' },
        { id: 'it', displayName: 'IT again' },
      ];
      const r = await admin('PATCH', 'organizations/org-a', { departments: twice });
      expect(r.status).toBe(400);
      expect(r.body.errors).toEqual([expect.objectContaining({ pointer: '/departments' })]);
      expect(
        (await admin('POST', 'organizations', { id: 'org-c', displayName: 'C', departments: twice })).status,
      ).toBe(400);
      expect((await admin('GET', 'organizations/org-a/departments')).body.value).toEqual([
        { id: 'it', displayName: 'IT' },
      ]);
      await admin('PATCH', 'endpoints/lab-a', { delegatedTo: [{ organization: 'org-a' }] });
    });

    it('fail/a scope naming an unknown organization is 400', async () => {
      const r = await admin('PUT', `administrators/${OPERATOR_A}`, { scopes: [{ organization: 'nowhere' }] });
      expect(r.status).toBe(400);
      expect(r.body.errors).toEqual([expect.objectContaining({ pointer: '/scopes/0' })]);
    });
  });
});
