import { beforeEach, describe, expect, it } from 'vitest';
import { memoryLogger } from '../../lib/log.js';
import { canonicalSerial } from '../../lib/revocation/reasons.js';
import { RevocationService } from '../../lib/revocation/revoke.js';
import { MemoryCertificateStore } from '../../lib/store/memory.js';
import type { CertificateRecord } from '../../lib/store/types.js';
import { testRecord } from './store-contract.js';

const NOW = new Date('2026-06-01T12:00:00Z');

describe('revoke and unrevoke', () => {
  let store: MemoryCertificateStore;
  let logger: ReturnType<typeof memoryLogger>;
  let changes: number;
  let service: RevocationService;
  let rec: CertificateRecord;
  beforeEach(async () => {
    store = new MemoryCertificateStore();
    logger = memoryLogger();
    changes = 0;
    service = new RevocationService({ store, logger, changed: () => void (changes += 1), now: () => NOW });
    const r = await store.create(testRecord(1, { serialNumber: '0a1b2c' }));
    if (!r.created) throw new Error('not created');
    rec = r.record;
  });

  it('ok/revokes with the reason and time, tells the caches, and writes an audit line', async () => {
    const out = await service.revoke({ serial: '0a1b2c', reason: 'keyCompromise', actor: 'admin-1' });
    expect(out.status).toBe('revoked');
    expect(out.revocation).toEqual({ reason: 'keyCompromise', date: NOW.toISOString() });
    expect((await store.getBySerial('0a1b2c'))?.status).toBe('revoked');
    expect(changes).toBe(1);
    const line = logger.entries.find((l) => l.message === 'certificate revoked');
    expect(line?.fields).toMatchObject({
      audit: true,
      event: 'certificate.revoked',
      serialNumber: '0a1b2c',
      actor: 'admin-1',
    });
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
