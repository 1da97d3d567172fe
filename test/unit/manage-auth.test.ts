import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { auditChangeLog } from '../../lib/admin/audit.js';
import { Certificates } from '../../lib/admin/certificates.js';
import { inScope, requireWritable } from '../../lib/admin/scope.js';
import type { Actor } from '../../lib/admin/roles.js';
import { createManagement } from '../../lib/app/management.js';
import { loadSettings } from '../../lib/config/index.js';
import { toAuditEvent, type AuditInput } from '../../lib/audit/event.js';
import { AppError } from '../../lib/errors.js';
import { MemoryDocumentStore } from '../../lib/store/documents-memory.js';
import { MemoryCertificateStore } from '../../lib/store/memory.js';
import { testRecord } from './store-contract.js';

const dirs: string[] = [];
const dataDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'manage-auth-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function management(env: Record<string, string>) {
  const settings = loadSettings({
    AppConfig__StaticValidation__RequestPassword: 'a-long-static-secret',
    ...env,
  });
  const deps = {
    docs: new MemoryDocumentStore(),
    clock: () => new Date(),
    maxValidityDays: 365,
    builtIns: [],
  };
  const r = await createManagement(settings, deps, {
    store: new MemoryCertificateStore(),
    endpointCache: { forget: () => undefined },
    audit: { record: () => undefined },
    realm: 'test',
  });
  return { manage: r.admin, adminKey: r.adminKey };
}

async function refusal(p: Promise<unknown>): Promise<string> {
  const e: unknown = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(AppError);
  return (e as AppError).code;
}

describe('admin key', () => {
  it('ok/a local start creates the key once (mode 0600) and it authenticates as CA.Admin', async () => {
    const dir = dataDir();
    const first = await management({ AppConfig__DataDir: dir });
    const file = join(dir, 'admin-key.txt');
    expect(first.adminKey).toBe(readFileSync(file, 'utf8').trim());
    expect(first.adminKey?.length).toBeGreaterThanOrEqual(43);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const again = await management({ AppConfig__DataDir: dir });
    expect(again.adminKey).toBe(first.adminKey);
    const actor = await first.manage.auth.authenticate(`Bearer ${first.adminKey ?? ''}`);
    expect(actor).toEqual({ id: 'admin-key', role: 'CA.Admin', scope: 'all' });
  });

  it('fail/a near-miss key is refused', async () => {
    const { manage, adminKey } = await management({ AppConfig__DataDir: dataDir() });
    const wrong = `${(adminKey ?? '').slice(0, -1)}${adminKey?.endsWith('A') ? 'B' : 'A'}`;
    expect(await refusal(manage.auth.authenticate(`Bearer ${wrong}`))).toBe('UNAUTHORIZED');
    expect(await refusal(manage.auth.authenticate(undefined))).toBe('UNAUTHORIZED');
  });

  it('fail/the admin key is refused in Azure (WEBSITE_SITE_NAME set), even when the file exists', async () => {
    const dir = dataDir();
    writeFileSync(join(dir, 'admin-key.txt'), `${'k'.repeat(43)}\n`);
    const { manage, adminKey } = await management({
      AppConfig__DataDir: dir,
      WEBSITE_SITE_NAME: 'scepca-func',
      AppConfig__KeyVaultConfig__KeyVaultURL: 'https://scepca-kv.vault.azure.net/',
      AppConfig__CosmosDb__Endpoint: 'https://scepca-db.documents.azure.com:443/',
    });
    expect(adminKey).toBeUndefined();
    expect(await refusal(manage.auth.authenticate(`Bearer ${'k'.repeat(43)}`))).toBe('UNAUTHORIZED');
  });
});

describe('change log', () => {
  it('ok/a change is one management audit event: actor, action, organization, secrets redacted at any depth', () => {
    const recorded: AuditInput[] = [];
    const actor: Actor = { id: 'entra:x', role: 'CA.Operator', scope: [] };
    auditChangeLog({
      record: (e) => {
        recorded.push(e);
        return undefined;
      },
    }).recordChange(
      actor,
      'account.create',
      'endpoints/lab/accounts/A1',
      null,
      {
        name: 'kandji',
        organization: 'org-a',
        challenge: 'SECRET-1',
        nested: { password: 'SECRET-2', secret: { hash: 'h', salt: 's' } },
      },
      { endpoint: 'lab' },
    );
    expect(recorded).toHaveLength(1);
    const e = toAuditEvent(recorded[0]!, new Date('2026-12-01T00:00:00Z'));
    expect(JSON.stringify(e)).not.toMatch(/SECRET-1|SECRET-2|"h"|"s"/);
    expect(e).toMatchObject({
      kind: 'management',
      actor: 'entra:x',
      operation: 'account.create',
      endpoint: 'lab',
      organization: 'org-a',
      outcome: 'changed',
      reason: 'management-change',
      message: 'entra:x: account.create endpoints/lab/accounts/A1 (challenge, name, nested, organization)',
    });
    expect(e.changes).toContainEqual({ field: 'challenge', before: undefined, after: '(changed)' });
    expect(e.changes).toContainEqual({
      field: 'nested',
      before: undefined,
      after: { password: '[redacted]', secret: '[redacted]' },
    });
  });
});

describe('scope', () => {
  const dept: Actor = { id: 'u', role: 'CA.Operator', scope: [{ organization: 'a', department: 'it' }] };
  const org: Actor = { id: 'u', role: 'CA.Auditor', scope: [{ organization: 'a' }] };
  it.each([
    ['an organization scope reaches its departments', org, [{ organization: 'a', department: 'hr' }], true],
    ['a department scope reaches its own department', dept, [{ organization: 'a', department: 'it' }], true],
    ['a department scope does not reach a sibling', dept, [{ organization: 'a', department: 'hr' }], false],
    [
      'a department scope reaches what is delegated to the whole organization',
      dept,
      [{ organization: 'a' }],
      true,
    ],
    ['no scope reaches another organization', org, [{ organization: 'b' }], false],
    ['unowned things are CA.Admin only', org, [{}], false],
  ])('%s', (_name, actor, owners, expected) => {
    expect(inScope(actor, owners)).toBe(expected);
  });

  const writes = (actor: Actor, owners: Parameters<typeof requireWritable>[1]): boolean => {
    try {
      requireWritable(actor, owners, 'it');
      return true;
    } catch (e) {
      expect(e).toMatchObject({ code: 'FORBIDDEN', detail: { reason: 'owner_out_of_scope' } });
      return false;
    }
  };
  it.each([
    ['an organization scope writes its departments', org, [{ organization: 'a', department: 'hr' }], true],
    ['an organization scope writes organization-wide', org, [{ organization: 'a' }], true],
    ['a department scope writes its own department', dept, [{ organization: 'a', department: 'it' }], true],
    ['a department scope does not write organization-wide', dept, [{ organization: 'a' }], false],
    [
      'a record of several owners needs them all',
      dept,
      [
        { organization: 'a', department: 'it' },
        { organization: 'a', department: 'hr' },
      ],
      false,
    ],
    ['nothing owned by no one (delegated to nobody)', org, [], false],
    ['CA-wide scope writes anything', { ...org, scope: 'all' as const }, [], true],
  ])('writes: %s', (_name, actor, owners, expected) => {
    expect(writes(actor, owners)).toBe(expected);
  });
});

describe('revocation authorization', () => {
  const store = new MemoryCertificateStore();
  const certificates = new Certificates(store);
  const operatorA: Actor = { id: 'a', role: 'CA.Operator', scope: [{ organization: 'org-a' }] };
  const auditorA: Actor = { id: 'b', role: 'CA.Auditor', scope: [{ organization: 'org-a' }] };
  const operatorB: Actor = { id: 'c', role: 'CA.Operator', scope: [{ organization: 'org-b' }] };

  it('ok/an operator in scope may revoke; fail/an auditor is 403; fail/another scope is 404', async () => {
    const r = await store.create(testRecord(5, { organization: 'org-a' }));
    if (!r.created) throw new Error('not created');
    const serial = r.record.serialNumber;
    expect((await certificates.forRevocation(operatorA, serial)).serialNumber).toBe(serial);
    expect(await refusal(certificates.forRevocation(auditorA, serial))).toBe('FORBIDDEN');
    expect(await refusal(certificates.forRevocation(operatorB, serial))).toBe('NOT_FOUND');
  });
});

describe('configuration writes stay in the owner scope', () => {
  // Authentication gives CA.Admin the whole CA; the rule holds for any actor that configures.
  const all: Actor = { id: 'k', role: 'CA.Admin', scope: 'all' };
  const orgA: Actor = { id: 'a', role: 'CA.Admin', scope: [{ organization: 'a' }] };
  const itA: Actor = { id: 'i', role: 'CA.Admin', scope: [{ organization: 'a', department: 'it' }] };

  it('fail/an organization or department administrator configures nothing outside it (403)', async () => {
    const { manage } = await management({ AppConfig__DataDir: dataDir() });
    const departments = ['it', 'hr'].map((id) => ({ id, displayName: id }));
    await manage.organizations.create(all, { id: 'a', displayName: 'A', departments });
    await manage.organizations.create(all, { id: 'b', displayName: 'B' });
    const lab = { name: 'lab', type: 'device-scep', delegatedTo: [{ organization: 'a' }] };
    expect((await manage.endpoints.create(orgA, lab)).value.name).toBe('lab');
    const refused = [
      () => manage.endpoints.create(orgA, { name: 'wide', type: 'device-scep' }),
      () => manage.endpoints.update(orgA, 'lab', { delegatedTo: null }),
      () => manage.endpoints.update(orgA, 'lab', { delegatedTo: [{ organization: 'b' }] }),
      () => manage.endpoints.update(itA, 'lab', { displayName: 'x' }),
      () => manage.raCertificates.renew(itA, 'lab'),
      () => manage.departments.create(itA, 'a', { id: 'ops', displayName: 'Ops' }),
      () => manage.organizations.update(itA, 'a', { displayName: 'x' }),
      () =>
        manage.administrators.put(orgA, '0a0a0a0a-0000-4000-8000-00000000000a', {
          scopes: [{ organization: 'b' }],
        }),
    ];
    for (const write of refused) expect(await refusal(write())).toBe('FORBIDDEN');
    expect((await manage.departments.update(itA, 'a', 'it', { displayName: 'IT' })).value.displayName).toBe(
      'IT',
    );
    expect((await manage.endpoints.get(all, 'lab')).value.delegatedTo).toEqual([{ organization: 'a' }]);
  });
});
