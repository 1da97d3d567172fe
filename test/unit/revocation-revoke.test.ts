import { beforeEach, describe, expect, it } from 'vitest';
import { canonicalSerial } from '../../lib/revocation/reasons.js';
import { RevocationService } from '../../lib/revocation/revoke.js';
import { MemoryCertificateStore } from '../../lib/store/memory.js';
import type { CertificateRecord } from '../../lib/store/types.js';
import { recordingAudit } from '../helpers/audit-log.js';
import { testRecord } from './store-contract.js';

const NOW = new Date('2026-06-01T12:00:00Z');

describe('revoke and unrevoke', () => {
  let store: MemoryCertificateStore;
  let audit: ReturnType<typeof recordingAudit>;
  let changes: number;
  let service: RevocationService;
  let rec: CertificateRecord;
  beforeEach(async () => {
    store = new MemoryCertificateStore();
    audit = recordingAudit(() => NOW);
    changes = 0;
    service = new RevocationService({ store, audit, changed: () => void (changes += 1), now: () => NOW });
    const r = await store.create(
      testRecord(1, { serialNumber: '0a1b2c', organization: 'org-a', department: 'it', accountId: 'A1' }),
    );
    if (!r.created) throw new Error('not created');
    rec = r.record;
  });

  it('ok/revokes with the reason and time, tells the caches, and records one audit event', async () => {
    const out = await service.revoke({ serial: '0a1b2c', reason: 'keyCompromise', actor: 'admin-1' });
    expect(out.status).toBe('revoked');
    expect(out.revocation).toEqual({ reason: 'keyCompromise', date: NOW.toISOString() });
    expect((await store.getBySerial('0a1b2c'))?.status).toBe('revoked');
    expect(changes).toBe(1);
    expect(audit.events).toHaveLength(1);
    expect(audit.events[0]).toMatchObject({
      kind: 'revocation',
      operation: 'certificate.revoke',
      outcome: 'revoked',
      reason: 'certificate-revoked',
      serialNumber: '0a1b2c',
      actor: 'admin-1',
      endpoint: rec.endpoint,
      partition: rec.endpoint,
      account: 'A1',
      organization: 'org-a',
      department: 'it',
      changes: [
        { field: 'status', before: 'issued', after: 'revoked' },
        { field: 'revocation', before: null, after: { reason: 'keyCompromise', date: NOW.toISOString() } },
      ],
    });
    expect(audit.events[0]?.message).toContain('keyCompromise');
  });

  it('ok/a caller names its operation: a renewal that supersedes is audited as such', async () => {
    await service.revoke({
      serial: '0a1b2c',
      reason: 'superseded',
      actor: 'renewal',
      operation: 'renewal.supersede',
    });
    expect(audit.events.map((e) => [e.operation, e.actor, e.reason])).toEqual([
      ['renewal.supersede', 'renewal', 'certificate-revoked'],
    ]);
  });

  it('ok/a release of a certificate on hold is one certificate-released event', async () => {
    await service.revoke({ serial: '0a1b2c', reason: 'certificateHold', actor: 'op' });
    await service.unrevoke({ serial: '0a1b2c', actor: 'op' });
    expect(audit.events.map((e) => [e.outcome, e.reason])).toEqual([
      ['revoked', 'certificate-revoked'],
      ['released', 'certificate-released'],
    ]);
    expect(audit.events[1]?.changes?.[0]).toEqual({ field: 'status', before: 'revoked', after: 'issued' });
  });

  it('fail/a refused revocation records nothing', async () => {
    await expect(service.revoke({ serial: 'ffff', actor: 'a' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(audit.events).toEqual([]);
  });

  it('ok/the reason defaults to unspecified', async () => {
    expect((await service.revoke({ serial: '0a1b2c', actor: 'a' })).revocation?.reason).toBe('unspecified');
  });

  it('ok/accepts the serial as openssl prints it: upper case, leading zeros stripped, colons', async () => {
    expect((await service.revoke({ serial: 'A1B2C', actor: 'a' })).serialNumber).toBe('0a1b2c');
    expect(canonicalSerial('0A:1B:2C')).toBe('0a1b2c');
    expect(canonicalSerial('000a1b2c')).toBe('0a1b2c');
    expect(canonicalSerial('xyz')).toBeUndefined();
  });

  it('fail/already revoked is CONFLICT, and nothing changes', async () => {
    await service.revoke({ serial: '0a1b2c', reason: 'superseded', actor: 'a' });
    const again = service.revoke({ serial: '0a1b2c', reason: 'keyCompromise', actor: 'a' });
    await expect(again).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await store.getBySerial('0a1b2c'))?.revocation?.reason).toBe('superseded');
  });

  it('fail/an unknown serial, or one outside the caller scope, is NOT_FOUND; a non-hex one BAD_REQUEST', async () => {
    const refused = (p: Promise<unknown>, code: string) => expect(p).rejects.toMatchObject({ code });
    await refused(service.revoke({ serial: '0badc0ffee', actor: 'a' }), 'NOT_FOUND');
    await refused(service.revoke({ serial: '0a1b2c', actor: 'a', visible: () => false }), 'NOT_FOUND');
    expect((await store.getBySerial('0a1b2c'))?.status).toBe('issued');
    await refused(service.revoke({ serial: '../etc', actor: 'a' }), 'BAD_REQUEST');
  });

  it('ok/a certificate on hold is released by unrevoke', async () => {
    await service.revoke({ serial: '0a1b2c', reason: 'certificateHold', actor: 'a' });
    const out = await service.unrevoke({ serial: '0a1b2c', actor: 'a' });
    expect(out.status).toBe('issued');
    expect(out.revocation).toBeUndefined();
    expect(changes).toBe(2);
  });

  it('ok/a certificate on hold is revoked for good without being released first', async () => {
    await service.revoke({ serial: '0a1b2c', reason: 'certificateHold', actor: 'a' });
    const held = (await store.getBySerial('0a1b2c'))?.revocation;
    const out = await service.revoke({ serial: '0a1b2c', reason: 'keyCompromise', actor: 'b' });
    expect(out.status).toBe('revoked');
    // The certificate has not been trusted since the hold: its revocation date stays.
    expect(out.revocation).toEqual({ reason: 'keyCompromise', date: held?.date });
    expect(changes).toBe(2);
    await expect(
      service.revoke({ serial: '0a1b2c', reason: 'certificateHold', actor: 'a' }),
    ).rejects.toMatchObject({ code: 'CONFLICT' });
  });

  it('fail/a certificate on hold put on hold again is CONFLICT', async () => {
    await service.revoke({ serial: '0a1b2c', reason: 'certificateHold', actor: 'a' });
    await expect(
      service.revoke({ serial: '0a1b2c', reason: 'certificateHold', actor: 'a' }),
    ).rejects.toMatchObject({ code: 'CONFLICT' });
  });

  it('fail/unrevoke of a certificate not revoked, or revoked for good, is CONFLICT', async () => {
    await expect(service.unrevoke({ serial: '0a1b2c', actor: 'a' })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    await service.revoke({ serial: '0a1b2c', reason: 'keyCompromise', actor: 'a' });
    await expect(service.unrevoke({ serial: '0a1b2c', actor: 'a' })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
  });

  it('ok/a record changed between read and write is read again (etag), not overwritten', async () => {
    const update = store.update.bind(store);
    let first = true;
    store.update = async (record, change) => {
      if (first) {
        first = false;
        await update(record, { notification: { state: 'sent', attempts: 1, updatedAt: NOW.toISOString() } });
      }
      return update(record, change);
    };
    const out = await service.revoke({ serial: '0a1b2c', actor: 'a' });
    expect(out.status).toBe('revoked');
    expect(out.notification?.state).toBe('sent');
    expect(rec.etag).not.toBe(out.etag);
  });
});
