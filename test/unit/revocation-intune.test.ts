import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../lib/errors.js';
import { IntuneClient } from '../../lib/intune/client.js';
import { memoryLogger } from '../../lib/log.js';
import { IntuneRevocationClient } from '../../lib/revocation/intune-client.js';
import { pullAllTenants, pullIntuneRevocations } from '../../lib/revocation/intune-pull.js';
import type { RevocationScope } from '../../lib/revocation/intune-tenants.js';
import { RevocationService } from '../../lib/revocation/revoke.js';
import { MemoryCertificateStore } from '../../lib/store/memory.js';
import type { FakeRevocationRequest } from '../fakes/intune-revocation.js';
import { startFakeIntune, type FakeIntune } from '../fakes/intune-server.js';
import { recordingAudit } from '../helpers/audit-log.js';
import { testRecord } from './store-contract.js';

const CA = 'CN=Test CA';
/** The CA before a rollover: its certificates are still this CA's to revoke. */
const PREVIOUS_CA = 'CN=Test CA 2025';
/** The settings-defined connection: its tenant may revoke certificates of `intune` (and mscep). */
const BUILT_IN: RevocationScope = {
  tenantId: '11111111-2222-3333-4444-555555555555',
  actor: 'intune',
  endpoints: new Set(['intune']),
  disabled: new Set(['intune-off']),
  place: { endpoint: 'intune' },
};
/** A stored endpoint's tenant. */
const OTHER: RevocationScope = {
  tenantId: '99999999-8888-7777-6666-555555555555',
  actor: 'intune:99999999-8888-7777-6666-555555555555',
  endpoints: new Set(['tenant-b']),
  disabled: new Set(),
  place: { endpoint: 'tenant-b' },
};
let fake: FakeIntune;
beforeAll(async () => {
  fake = await startFakeIntune();
});
afterAll(async () => {
  await fake.close();
});

describe('Intune revocation pull', () => {
  let store: MemoryCertificateStore;
  let pull: () => ReturnType<typeof pullIntuneRevocations>;
  let audit: ReturnType<typeof recordingAudit>;
  let common: Omit<Parameters<typeof pullAllTenants>[0], 'tenants' | 'revocationClient'>;
  beforeEach(() => {
    fake.revocation.pending.splice(0);
    fake.revocation.results.splice(0);
    fake.revocation.fault = undefined;
    fake.violations.splice(0);
    store = new MemoryCertificateStore();
    const logger = memoryLogger();
    const intune = new IntuneClient(fake.clientOptions());
    const client = new IntuneRevocationClient(intune, {
      providerNameAndVersion: 'test/1.0',
      timeoutMs: 5000,
    });
    audit = recordingAudit();
    const revocation = new RevocationService({ store, audit, changed: () => undefined });
    common = { revocation, caNames: [CA, PREVIOUS_CA], batchSize: 100, logger, audit };
    pull = () => pullIntuneRevocations({ ...common, client, scope: BUILT_IN });
  });

  async function issued(n: number, serial: string, endpoint = 'intune'): Promise<void> {
    await store.create(testRecord(n, { serialNumber: serial, endpoint }));
  }

  const request = (ctx: string, serialNumber: string, issuerName: string | null = 'CN = Test CA') => ({
    requestContext: ctx,
    serialNumber,
    issuerName,
    caConfiguration: null,
  });

  it('ok/revokes what Intune asks for and reports every outcome', async () => {
    await issued(1, '0a01');
    await issued(2, '0a02');
    await store.update((await store.getBySerial('0a02'))!, {
      status: 'revoked',
      revocation: { reason: 'keyCompromise', date: '2026-01-01T00:00:00Z' },
    });
    fake.revocation.pending.push(
      request('ctx-1', 'A01'), // as Intune may print it: upper case, leading zero dropped
      request('ctx-2', '0a02'), // already revoked: done, so succeeded
      request('ctx-3', 'ffff'), // never issued
      request('ctx-4', '0a01', 'CN=Another CA'),
    );
    expect(await pull()).toEqual({ revoked: 1, reported: 4 });
    expect((await store.getBySerial('0a01'))?.status).toBe('revoked');
    expect((await store.getBySerial('0a01'))?.revocation?.reason).toBe('unspecified');
    expect(fake.revocation.results.map((r) => [r.requestContext, r.succeeded, r.errorCode])).toEqual([
      ['ctx-1', true, 'None'],
      ['ctx-2', true, 'None'],
      ['ctx-3', false, 'CertificateNotFoundError'],
      ['ctx-4', false, 'CertificateNotFoundError'],
    ]);
    expect(fake.revocation.pending).toEqual([]);
    expect(fake.revocation.downloads).toContain(100);
    expect(fake.violations).toEqual([]);
    // One audit event per request, each with its outcome.
    expect(audit.events.map((e) => [e.serialNumber, e.actor, e.outcome, e.reason])).toEqual([
      ['0a01', 'intune', 'revoked', 'certificate-revoked'],
      ['0a02', 'intune', 'replayed', 'revocation-already-revoked'],
      ['ffff', 'intune', 'refused', 'revocation-certificate-unknown'],
      ['0a01', 'intune', 'refused', 'revocation-other-issuer'],
    ]);
    expect(audit.events.every((e) => e.kind === 'revocation' && e.operation === 'intune.revoke')).toBe(true);
  });

  it('fail/a request without a serial number is answered as invalid, and one without a requestContext is logged; both are audited', async () => {
    await issued(12, '1b01');
    const noSerial = { requestContext: 'ctx-14', issuerName: null, caConfiguration: null };
    const noContext = { serialNumber: '1b01', issuerName: null, caConfiguration: null };
    fake.revocation.pending.push(
      noSerial as FakeRevocationRequest,
      { ...noSerial, requestContext: 'ctx-15', serialNumber: '' },
      noContext as FakeRevocationRequest,
      request('ctx-16', '1b01'),
    );
    expect(await pull()).toEqual({ revoked: 1, reported: 3 });
    expect(fake.revocation.results.map((r) => [r.requestContext, r.succeeded, r.errorCode])).toEqual([
      ['ctx-14', false, 'ParameterDataInvalidError'],
      ['ctx-15', false, 'ParameterDataInvalidError'],
      ['ctx-16', true, 'None'],
    ]);
    expect(fake.revocation.results[0]?.errorMessage).toBe(
      'invalid revocation request: it has no serial number',
    );
    expect(fake.violations).toEqual([]);
    expect(audit.events.map((e) => [e.serialNumber, e.outcome, e.reason])).toEqual([
      [undefined, 'refused', 'revocation-request-invalid'],
      [undefined, 'refused', 'revocation-request-invalid'],
      ['1b01', 'refused', 'revocation-request-invalid'],
      ['1b01', 'revoked', 'certificate-revoked'],
    ]);
    expect(audit.events[2]?.message).toContain('no requestContext');
  });

  it("fail/a certificate outside the tenant's endpoints is refused as not found and stays good", async () => {
    await issued(6, '0e01', 'static'); // a non-Intune endpoint
    await issued(7, '0e02', 'tenant-b'); // another tenant's endpoint
    await issued(8, '0e03', 'intune-off'); // this tenant's endpoint with revocation off
    fake.revocation.pending.push(
      request('ctx-8', '0e01'),
      request('ctx-9', '0e02'),
      request('ctx-10', '0e03'),
    );
    expect(await pull()).toEqual({ revoked: 0, reported: 3 });
    for (const serial of ['0e01', '0e02', '0e03'])
      expect((await store.getBySerial(serial))?.status).toBe('issued');
    expect(fake.revocation.results.map((r) => [r.requestContext, r.succeeded, r.errorCode])).toEqual([
      ['ctx-8', false, 'CertificateNotFoundError'],
      ['ctx-9', false, 'CertificateNotFoundError'],
      ['ctx-10', false, 'CertificateNotFoundError'],
    ]);
    expect(audit.events.map((e) => [e.serialNumber, e.endpoint, e.outcome, e.reason])).toEqual([
      ['0e01', 'intune', 'refused', 'revocation-other-tenant'],
      ['0e02', 'intune', 'refused', 'revocation-other-tenant'],
      ['0e03', 'intune', 'refused', 'revocation-not-enabled'],
    ]);
    // The refusal names neither the other endpoint nor its subject.
    expect(audit.events[1]?.message).not.toContain('tenant-b');
    expect(audit.events.every((e) => e.message.includes(BUILT_IN.tenantId))).toBe(true);
  });

  it('ok/a certificate of the previous CA (after a rollover) is revoked when Intune names that issuer', async () => {
    await issued(9, '0f01');
    fake.revocation.pending.push(request('ctx-11', '0f01', 'CN=Test CA 2025'));
    expect(await pull()).toEqual({ revoked: 1, reported: 1 });
    expect((await store.getBySerial('0f01'))?.status).toBe('revoked');
  });

  it("fail/a tenant whose network fails is reported as failed; another tenant's pull is done in the same run", async () => {
    await issued(10, '1a01');
    fake.revocation.pending.push(request('ctx-12', '1a01'));
    const good = new IntuneClient(fake.clientOptions());
    // The other tenant's Entra ID, Graph and Intune cannot be reached.
    const refused = () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1'));
    const unreachable = new IntuneClient({ ...fake.clientOptions(), fetch: refused });
    const run = await pullAllTenants({
      ...common,
      tenants: () =>
        Promise.resolve([
          { ...OTHER, client: unreachable },
          { ...BUILT_IN, client: good },
        ]),
      revocationClient: (c) =>
        new IntuneRevocationClient(c, {
          providerNameAndVersion: 'test/1.0',
          timeoutMs: 5000,
          fetch: c === unreachable ? refused : fetch,
        }),
    });
    expect(run.revoked).toBe(1);
    expect(run.tenants).toEqual([
      { tenantId: OTHER.tenantId, endpoints: ['tenant-b'], error: expect.stringContaining('ECONNREFUSED') },
      { tenantId: BUILT_IN.tenantId, endpoints: ['intune'], revoked: 1, reported: 1 },
    ]);
    expect((await store.getBySerial('1a01'))?.status).toBe('revoked');
  });

  it('fail/an upload that fails loses nothing: the next pull gets the requests again and reports them', async () => {
    await issued(3, '0b01');
    fake.revocation.pending.push(request('ctx-5', '0b01'));
    fake.revocation.fault = 'upload';
    const err = await pull().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('DEPENDENCY_UNAVAILABLE');
    expect((await store.getBySerial('0b01'))?.status).toBe('revoked');
    expect(fake.revocation.pending).toHaveLength(1);
    fake.revocation.fault = undefined;
    expect(await pull()).toEqual({ revoked: 0, reported: 1 });
    expect(fake.revocation.results).toEqual([
      { requestContext: 'ctx-5', succeeded: true, errorCode: 'None', errorMessage: null },
    ]);
  });

  it('fail/a download that fails changes nothing and the next pull does the work', async () => {
    await issued(4, '0c01');
    fake.revocation.pending.push(request('ctx-6', '0c01'));
    fake.revocation.fault = 'download';
    await expect(pull()).rejects.toBeInstanceOf(AppError);
    expect((await store.getBySerial('0c01'))?.status).toBe('issued');
    fake.revocation.fault = undefined;
    expect(await pull()).toEqual({ revoked: 1, reported: 1 });
  });

  it('fail/a certificate that kept changing while it was revoked is not reported as revoked', async () => {
    await issued(11, '0d02');
    fake.revocation.pending.push(request('ctx-13', '0d02'));
    // Another writer (the notification worker) updates the record between each read and write.
    const update = store.update.bind(store);
    store.update = async (record, patch) => {
      if (patch.status === 'revoked') {
        const fresh = (await store.getBySerial(record.serialNumber))!;
        await update(fresh, { notification: { state: 'pending', attempts: 1, updatedAt: fresh.notBefore } });
      }
      return update(record, patch);
    };
    expect(await pull()).toEqual({ revoked: 0, reported: 0 });
    expect((await store.getBySerial('0d02'))?.status).toBe('issued');
    expect(fake.revocation.pending).toHaveLength(1);
    store.update = update;
    expect(await pull()).toEqual({ revoked: 1, reported: 1 });
    expect((await store.getBySerial('0d02'))?.status).toBe('revoked');
  });

  it('fail/a request the store could not process is not reported, so Intune offers it again', async () => {
    await issued(5, '0d01');
    fake.revocation.pending.push(request('ctx-7', '0d01'));
    const read = store.getBySerial.bind(store);
    store.getBySerial = () => Promise.reject(new Error('store down'));
    expect(await pull()).toEqual({ revoked: 0, reported: 0 });
    expect(fake.revocation.pending).toHaveLength(1);
    store.getBySerial = read;
    expect(await pull()).toEqual({ revoked: 1, reported: 1 });
  });
});
