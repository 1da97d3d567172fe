import { describe, expect, it } from 'vitest';
import {
  createAccount,
  createOneTimeChallenge,
  getAccount,
  listAccounts,
  updateAccount,
} from '../../lib/endpoints/accounts.js';
import {
  accountsOf,
  createEndpoint,
  deleteEndpoint,
  getEndpoint,
  listEndpoints,
  updateEndpoint,
} from '../../lib/endpoints/manage.js';
import { DEFAULT_PROFILE } from '../../lib/model/profile.js';
import { manageDeps, problemsOf } from '../helpers/endpoints.js';

const INTUNE = {
  tenantId: '11111111-2222-3333-4444-555555555555',
  applicationId: '66666666-7777-8888-9999-000000000000',
  credential: { kind: 'managedIdentity' },
};

describe('endpoints: create', () => {
  it('ok/a name and a type → the endpoint with every profile default filled in', async () => {
    const d = manageDeps();
    const e = await createEndpoint(d, { name: 'lab', type: 'device-scep', displayName: 'Lab' });
    expect(e).toMatchObject({ id: 'lab', name: 'lab', displayName: 'Lab', enabled: true, delegatedTo: [] });
    expect(e.profile).toEqual(DEFAULT_PROFILE);
    expect(e.profile.ekus).toEqual(['1.3.6.1.5.5.7.3.2']);
    expect(e.etag).toBeTruthy();
  });

  it('ok/EKU names become OIDs', async () => {
    const e = await createEndpoint(manageDeps(), {
      name: 'eku',
      type: 'client-scep',
      profile: { ekus: ['clientAuth', 'emailProtection', '1.2.3.4'] },
    });
    expect(e.profile.ekus).toEqual(['1.3.6.1.5.5.7.3.2', '1.3.6.1.5.5.7.3.4', '1.2.3.4']);
  });

  it('fail/an invalid endpoint → 400 listing every problem at once', async () => {
    const problems = await problemsOf(
      createEndpoint(manageDeps(), {
        name: 'Bad_Name',
        type: 'router',
        profile: { ekus: ['notAnEku'], validityDays: 0, subject: { cnPattern: '(' } },
        extra: 1,
      }),
    );
    expect(problems.join('\n')).toMatch(/^name:/m);
    expect(problems.join('\n')).toMatch(/^type:/m);
    expect(problems.join('\n')).toMatch(/^profile\.ekus\.0:/m);
    expect(problems.join('\n')).toMatch(/^profile\.validityDays:/m);
    expect(problems.join('\n')).toMatch(/^profile\.subject\.cnPattern:/m);
    expect(problems.length).toBeGreaterThanOrEqual(6);
  });

  it('fail/an impossible profile → every cross-field problem', async () => {
    const problems = await problemsOf(
      createEndpoint(manageDeps({ maxValidityDays: 400 }), {
        name: 'impossible',
        type: 'device-scep',
        profile: {
          validityDays: 500,
          subject: { required: ['CN'], forbidden: ['CN'], cnPattern: 'x' },
          san: { allowedTypes: ['dns'], patterns: { email: '.*' } },
          renewal: { allowed: true, windowDays: 600 },
        },
      }),
    );
    expect(problems).toEqual([
      "profile.validityDays: at most 400 (the CA's AppConfig__ValidityPeriodDays)",
      'profile.subject: CN is both required and forbidden',
      'profile.subject.cnPattern: CN is forbidden',
      'profile.san.patterns.email: email is not in allowedTypes',
      'profile.renewal.windowDays: longer than the validity',
    ]);
  });

  it('fail/a name clash (stored or built-in) → 400 naming it', async () => {
    const d = { ...manageDeps(), builtIns: [] };
    await createEndpoint(d, { name: 'lab', type: 'device-scep' });
    expect(await problemsOf(createEndpoint(d, { name: 'lab', type: 'client-scep' }))).toEqual([
      'name: an endpoint named "lab" exists',
    ]);
    expect(await problemsOf(createEndpoint(d, { name: 'static', type: 'client-scep' }))).toEqual([
      'name: an endpoint named "static" exists',
    ]);
  });

  it('fail/an Intune type without a connection, a SCEP type with one', async () => {
    const d = manageDeps();
    expect(await problemsOf(createEndpoint(d, { name: 'i', type: 'device-intune' }))).toEqual([
      'intune: required for a device-intune endpoint',
    ]);
    expect(await problemsOf(createEndpoint(d, { name: 's', type: 'device-scep', intune: INTUNE }))).toEqual([
      'intune: only Intune-type endpoints have a connection',
    ]);
    const ok = await createEndpoint(d, { name: 'tenant-a', type: 'client-intune', intune: INTUNE });
    expect(ok.intune?.tenantId).toBe(INTUNE.tenantId);
  });

  it('fail/delegation to an organization or department that does not exist', async () => {
    const d = manageDeps();
    await d.docs.collection('organizations').create({
      id: 'contoso',
      displayName: 'Contoso',
      departments: [{ id: 'it', displayName: 'IT' }],
    } as never);
    expect(
      await problemsOf(
        createEndpoint(d, {
          name: 'x',
          type: 'device-scep',
          delegatedTo: [{ organization: 'fabrikam' }, { organization: 'contoso', department: 'hr' }],
        }),
      ),
    ).toEqual([
      'delegatedTo.0.organization: there is no organization "fabrikam"',
      'delegatedTo.1.department: "contoso" has no department "hr"',
    ]);
    const ok = await createEndpoint(d, {
      name: 'x',
      type: 'device-scep',
      delegatedTo: [{ organization: 'contoso', department: 'it' }],
    });
    expect(ok.delegatedTo).toEqual([{ organization: 'contoso', department: 'it' }]);
  });
});

describe('endpoints: update, delete, list', () => {
  it('ok/a JSON merge patch changes what it names and keeps the rest', async () => {
    const d = manageDeps();
    await createEndpoint(d, { name: 'lab', type: 'device-scep', profile: { validityDays: 90 } });
    const e = await updateEndpoint(d, 'lab', { enabled: false, profile: { key: { rsaMinBits: 3072 } } });
    expect(e.enabled).toBe(false);
    expect(e.profile.validityDays).toBe(90);
    expect(e.profile.key).toEqual({ rsaMinBits: 3072, ecCurves: ['P-256', 'P-384'] });
  });

  it('fail/a stale If-Match → 412 PRECONDITION_FAILED', async () => {
    const d = manageDeps();
    const e = await createEndpoint(d, { name: 'lab', type: 'device-scep' });
    await updateEndpoint(d, 'lab', { displayName: 'Lab 2' }, e.etag);
    await expect(updateEndpoint(d, 'lab', { displayName: 'Lab 3' }, e.etag)).rejects.toMatchObject({
      code: 'PRECONDITION_FAILED',
    });
  });

  it('fail/name and type cannot change; a bad patch lists every problem', async () => {
    const d = manageDeps();
    await createEndpoint(d, { name: 'lab', type: 'device-scep' });
    expect(
      await problemsOf(
        updateEndpoint(d, 'lab', { name: 'x', type: 'client-scep', profile: { validityDays: -1 } }),
      ),
    ).toEqual([
      'name: cannot be changed',
      'type: cannot be changed',
      'profile.validityDays: Too small: expected number to be >=1',
    ]);
    await expect(updateEndpoint(d, 'nope', {})).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('fail/built-ins are listed first, and refuse update, delete and accounts', async () => {
    const now = '2026-12-01T12:00:00.000Z';
    const staticEndpoint = {
      id: 'static',
      name: 'static',
      displayName: 'Static',
      type: 'device-scep' as const,
      enabled: true,
      profile: DEFAULT_PROFILE,
      delegatedTo: [],
      createdAt: now,
      updatedAt: now,
      builtIn: true,
    };
    const d = { ...manageDeps(), builtIns: [staticEndpoint] };
    await createEndpoint(d, { name: 'lab', type: 'device-scep' });
    expect((await listEndpoints(d)).items.map((e) => [e.name, e.builtIn ?? false])).toEqual([
      ['static', true],
      ['lab', false],
    ]);
    expect(await getEndpoint(d, 'static')).toMatchObject({ builtIn: true });
    await expect(updateEndpoint(d, 'static', { enabled: false })).rejects.toMatchObject({
      code: 'METHOD_NOT_ALLOWED',
    });
    await expect(deleteEndpoint(d, 'static')).rejects.toMatchObject({ code: 'METHOD_NOT_ALLOWED' });
    await expect(createAccount(d, 'static', { name: 'x' })).rejects.toMatchObject({
      code: 'METHOD_NOT_ALLOWED',
    });
  });

  it('ok/delete removes the endpoint and its accounts', async () => {
    const d = manageDeps();
    await createEndpoint(d, { name: 'lab', type: 'device-scep' });
    await createAccount(d, 'lab', { name: 'kandji' });
    await createOneTimeChallenge(d, 'lab');
    expect(await deleteEndpoint(d, 'lab')).toBe(true);
    expect(await getEndpoint(d, 'lab')).toBeUndefined();
    expect((await accountsOf(d.docs).list({}, { partition: 'lab' })).items).toEqual([]);
    expect(await deleteEndpoint(d, 'lab')).toBe(false);
  });

  it('ok/list pages stored endpoints by name', async () => {
    const d = manageDeps();
    for (const n of ['c', 'a', 'b']) await createEndpoint(d, { name: n, type: 'device-scep' });
    const first = await listEndpoints(d, { top: 2 });
    expect(first.items.map((e) => e.name)).toEqual(['a', 'b']);
    const rest = await listEndpoints(d, { top: 2, continuationToken: first.continuationToken });
    expect(rest.items.map((e) => e.name)).toEqual(['c']);
  });
});

describe('accounts and one-time challenges', () => {
  it('ok/creating an account returns its challenge once; the store keeps only a scrypt hash', async () => {
    const d = manageDeps();
    await createEndpoint(d, { name: 'lab', type: 'device-scep' });
    const r = await createAccount(d, 'lab', { name: 'kandji', organization: 'contoso' });
    if (!('challenge' in r)) throw new Error('expected a challenge');
    expect(r.challenge).toMatch(/^[0-9A-F]{48}$/);
    expect(r.challenge.startsWith(r.account.id)).toBe(true);
    expect(r.account).not.toHaveProperty('secret');
    const stored = await accountsOf(d.docs).get(r.account.id, 'lab');
    expect(stored?.secret.alg).toBe('scrypt');
    expect(JSON.stringify(stored)).not.toContain(r.challenge.slice(16));
    expect(await getAccount(d, 'lab', r.account.id)).not.toHaveProperty('secret');
    expect((await listAccounts(d, 'lab')).items.map((a) => a.name)).toEqual(['kandji']);
  });

  it('ok/an ndes account returns a username and a password', async () => {
    const d = manageDeps();
    await createEndpoint(d, { name: 'lab', type: 'device-scep' });
    const r = await createAccount(d, 'lab', { name: 'jamf', kind: 'ndes' });
    if (!('username' in r)) throw new Error('expected credentials');
    expect(r.username).toBe(`lab.${r.account.id}`);
    expect(r.password).toMatch(/^[0-9A-F]{32}$/);
  });

  it('ok/two challenges differ (128 random bits each)', async () => {
    const d = manageDeps();
    await createEndpoint(d, { name: 'lab', type: 'device-scep' });
    const a = await createOneTimeChallenge(d, 'lab');
    const b = await createOneTimeChallenge(d, 'lab');
    expect(a.challenge).not.toBe(b.challenge);
  });

  it('ok/a one-time challenge is valid once for 60 minutes by default', async () => {
    const d = manageDeps();
    await createEndpoint(d, { name: 'lab', type: 'device-scep' });
    const r = await createOneTimeChallenge(d, 'lab');
    expect(r.expiresAt).toBe('2026-12-01T13:00:00.000Z');
    expect(r.account).toMatchObject({ kind: 'one-time', maxUses: 1, uses: 0 });
    const r2 = await createOneTimeChallenge(d, 'lab', { minutes: 5 });
    expect(r2.expiresAt).toBe('2026-12-01T12:05:00.000Z');
  });

  it('fail/accounts of an Intune endpoint, of an unknown endpoint, with bad fields', async () => {
    const d = manageDeps();
    await createEndpoint(d, { name: 'i', type: 'device-intune', intune: INTUNE });
    await createEndpoint(d, { name: 'lab', type: 'device-scep' });
    expect((await problemsOf(createAccount(d, 'i', { name: 'x' })))[0]).toMatch(/Intune endpoint/);
    await expect(createAccount(d, 'nope', { name: 'x' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const problems = await problemsOf(createAccount(d, 'lab', { name: '', maxUses: 0, kind: 'x' }));
    expect(problems).toHaveLength(3);
    expect(
      await problemsOf(createAccount(d, 'lab', { name: 'old', expiresAt: '2020-01-01T00:00:00Z' })),
    ).toEqual(['expiresAt: lies in the past']);
  });

  it('ok/an account patch disables it and keeps its secret', async () => {
    const d = manageDeps();
    await createEndpoint(d, { name: 'lab', type: 'device-scep' });
    const r = await createAccount(d, 'lab', { name: 'kandji' });
    const before = await accountsOf(d.docs).get(r.account.id, 'lab');
    const after = await updateAccount(d, 'lab', r.account.id, { enabled: false, maxUses: null });
    expect(after.enabled).toBe(false);
    expect((await accountsOf(d.docs).get(r.account.id, 'lab'))?.secret).toEqual(before?.secret);
  });
});
