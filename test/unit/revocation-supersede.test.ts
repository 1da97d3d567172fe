import { beforeEach, describe, expect, it } from 'vitest';
import type { RenewalPolicy } from '../../lib/enroll/endpoint.js';
import { memoryLogger } from '../../lib/log.js';
import { RevocationService } from '../../lib/revocation/revoke.js';
import { revokeSupersededOnDelivery, type SupersedeOnDelivery } from '../../lib/revocation/supersede.js';
import { MemoryCertificateStore } from '../../lib/store/memory.js';
import type { CertificateRecord } from '../../lib/store/types.js';
import { recordingAudit } from '../helpers/audit-log.js';
import { testRecord } from './store-contract.js';

const NOW = new Date('2026-06-01T12:00:00Z');

describe('a delivered renewal revokes the certificate it renews when the profile says so', () => {
  let store: MemoryCertificateStore;
  let logger: ReturnType<typeof memoryLogger>;
  let audit: ReturnType<typeof recordingAudit>;
  let policies: Map<string, RenewalPolicy>;
  let supersede: SupersedeOnDelivery;
  let old: CertificateRecord;
  let renewed: CertificateRecord;

  beforeEach(async () => {
    store = new MemoryCertificateStore();
    logger = memoryLogger();
    audit = recordingAudit(() => NOW);
    policies = new Map([
      ['static', { allowed: true, revokeSuperseded: true }],
      ['kiosk', { allowed: true }],
    ]);
    const revocation = new RevocationService({ store, audit, changed: () => undefined, now: () => NOW });
    supersede = revokeSupersededOnDelivery({
      revocation,
      renewalPolicyOf: (name) => Promise.resolve(policies.get(name)),
      logger,
    });
    old = testRecord(1);
    renewed = testRecord(2, { authorization: 'renewal', renewalOf: old.serialNumber });
    await store.create(old);
    await store.create(renewed);
  });

  it('ok/revokes the renewed certificate as superseded, through the revoke audit event', async () => {
    await supersede(renewed);
    expect((await store.getBySerial(old.serialNumber))?.revocation).toEqual({
      reason: 'superseded',
      date: NOW.toISOString(),
    });
    expect(audit.events).toHaveLength(1);
    expect(audit.events[0]).toMatchObject({
      kind: 'revocation',
      operation: 'renewal.supersede',
      reason: 'certificate-revoked',
      serialNumber: old.serialNumber,
      actor: `renewal:${renewed.serialNumber}`,
    });
    expect(audit.events[0]?.message).toContain('superseded');
  });

  it('ok/profile off (the default): the renewed certificate stays good', async () => {
    policies.set('static', { allowed: true, revokeSuperseded: false });
    await supersede(renewed);
    expect((await store.getBySerial(old.serialNumber))?.status).toBe('issued');
  });

  it("ok/the profile of the certificate's own endpoint decides", async () => {
    const k = testRecord(3, { endpoint: 'kiosk' });
    const kr = testRecord(4, { endpoint: 'kiosk', authorization: 'renewal', renewalOf: k.serialNumber });
    await store.create(k);
    await supersede(kr);
    expect((await store.getBySerial(k.serialNumber))?.status).toBe('issued');
  });

  it('ok/a first enrollment revokes nothing', async () => {
    await supersede(old);
    expect((await store.getBySerial(old.serialNumber))?.status).toBe('issued');
  });

  it('ok/a replayed delivery leaves the earlier revocation as it was, without a warning', async () => {
    await supersede(renewed);
    await supersede(renewed);
    expect(audit.events.filter((e) => e.reason === 'certificate-revoked')).toHaveLength(1);
    expect(logger.entries.filter((l) => l.level === 'warn')).toEqual([]);
  });

  it('fail/an old certificate already revoked for key compromise keeps that reason', async () => {
    const current = await store.getBySerial(old.serialNumber);
    if (!current) throw new Error('not recorded');
    await store.update(current, {
      status: 'revoked',
      revocation: { reason: 'keyCompromise', date: '2026-05-01T00:00:00Z' },
    });
    await supersede(renewed);
    expect((await store.getBySerial(old.serialNumber))?.revocation?.reason).toBe('keyCompromise');
  });

  it('fail/a store fault is logged, never thrown at the delivery', async () => {
    const broken = revokeSupersededOnDelivery({
      revocation: { revoke: () => Promise.reject(new Error('store down')) },
      renewalPolicyOf: () => Promise.resolve({ allowed: true, revokeSuperseded: true }),
      logger,
    });
    await expect(broken(renewed)).resolves.toBeUndefined();
    expect(logger.entries.find((l) => l.level === 'warn')?.fields).toMatchObject({
      serialNumber: old.serialNumber,
      renewedBy: renewed.serialNumber,
    });
  });
});
