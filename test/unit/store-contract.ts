import { createHash, randomBytes } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import type { CertificateRecord, CertificateStore } from '../../lib/store/types.js';

/** A fixed instant: records get createdAt = BASE + n seconds, never the wall clock. */
export const BASE_TIME = Date.UTC(2025, 0, 1, 12, 0, 0);
export const at = (seconds: number): string => new Date(BASE_TIME + seconds * 1000).toISOString();

/** A plausible certificate record; serial and DER are random, `n` orders createdAt. */
export function testRecord(n: number, overrides: Partial<CertificateRecord> = {}): CertificateRecord {
  const der = randomBytes(64);
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x10;
  return {
    serialNumber: serial.toString('hex'),
    thumbprintSha1: createHash('sha1').update(der).digest('hex').toUpperCase(),
    thumbprintSha256: createHash('sha256').update(der).digest('hex').toUpperCase(),
    subject: `CN=device-${n}, O=Contoso`,
    sans: [`dns:device-${n}.contoso.test`],
    issuer: 'CN=Test CA',
    notBefore: at(n),
    notAfter: at(n + 86400 * 365),
    endpoint: 'static',
    authorization: 'static',
    requester: `device-${n}`,
    transactionId: `tx-${n}`,
    transactionKey: `static|tx-${n}|PKCSReq`,
    csrSha256: createHash('sha256').update(`csr-${n}`).digest('hex'),
    publicKeySha256: createHash('sha256').update(`key-${n}`).digest('hex'),
    status: 'issued',
    der: der.toString('base64'),
    createdAt: at(n),
    ...overrides,
  };
}

/** Every search page of `query` until the continuation runs out. */
export async function searchAll(
  store: CertificateStore,
  query: Parameters<CertificateStore['search']>[0] = {},
): Promise<{ items: CertificateRecord[]; pages: number }> {
  const items: CertificateRecord[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const page = await store.search({
      ...query,
      ...(token === undefined ? {} : { continuationToken: token }),
    });
    items.push(...page.items);
    token = page.continuationToken;
    pages += 1;
  } while (token !== undefined);
  return { items, pages };
}

const withoutEtag = ({ etag: _etag, ...rest }: CertificateRecord): Omit<CertificateRecord, 'etag'> => rest;

/**
 * The behaviour every CertificateStore must have (lib/store/types.ts). `open` gives a fresh,
 * empty store for each test.
 */
export function certificateStoreContract(
  name: string,
  open: () => Promise<CertificateStore> | CertificateStore,
): void {
  describe(`${name}: CertificateStore contract`, () => {
    let store: CertificateStore;
    beforeEach(async () => {
      store = await open();
    });

    it('ok/records a certificate and finds it by serial and by transactionKey', async () => {
      const rec = testRecord(1);
      const r = await store.create(rec);
      expect(r.created).toBe(true);
      if (!r.created) return;
      expect(withoutEtag(r.record)).toEqual(rec);
      expect(r.record.etag).toBeTypeOf('string');
      expect(withoutEtag((await store.getBySerial(rec.serialNumber))!)).toEqual(rec);
      expect(withoutEtag((await store.getByTransactionKey(rec.transactionKey!))!)).toEqual(rec);
    });

    it('ok/a record without transactionKey is found by serial only', async () => {
      const rec = testRecord(2, { transactionKey: undefined, transactionId: undefined });
      expect((await store.create(rec)).created).toBe(true);
      expect((await store.getBySerial(rec.serialNumber))?.thumbprintSha256).toBe(rec.thumbprintSha256);
    });

    it('ok/unknown serial and transactionKey give undefined', async () => {
      expect(await store.getBySerial('7fffffff')).toBeUndefined();
      expect(await store.getBySerial('not/a?serial#')).toBeUndefined();
      expect(await store.getByTransactionKey('static|nope|PKCSReq')).toBeUndefined();
    });

    it('ok/the same transactionKey again returns the existing certificate and writes no second one', async () => {
      const first = testRecord(3);
      const again = testRecord(3); // same transactionKey, another serial and DER
      await store.create(first);
      const r = await store.create(again);
      expect(r.created).toBe(false);
      if (r.created) return;
      expect(r.existing.serialNumber).toBe(first.serialNumber);
      expect(r.existing.der).toBe(first.der);
      expect(await store.getBySerial(again.serialNumber)).toBeUndefined();
      expect((await store.getByTransactionKey(first.transactionKey!))?.der).toBe(first.der);
      expect((await searchAll(store)).items).toHaveLength(1);
    });

    it('ok/update with the current etag applies the change and returns a new etag', async () => {
      const r = await store.create(testRecord(4));
      if (!r.created) throw new Error('not created');
      const revocation = { reason: 'keyCompromise' as const, date: at(100) };
      const updated = await store.update(r.record, { status: 'revoked', revocation });
      expect(updated?.status).toBe('revoked');
      expect(updated?.revocation).toEqual(revocation);
      expect(updated?.etag).not.toBe(r.record.etag);
      const read = await store.getBySerial(r.record.serialNumber);
      expect(read?.status).toBe('revoked');
      expect(read?.etag).toBe(updated?.etag);
      expect(read?.der).toBe(r.record.der);
    });

    it('fail/update with a stale etag resolves undefined and changes nothing', async () => {
      const r = await store.create(testRecord(5));
      if (!r.created) throw new Error('not created');
      const first = await store.update(r.record, {
        notification: { state: 'sent', attempts: 1, updatedAt: at(10) },
      });
      expect(first).toBeDefined();
      expect(await store.update(r.record, { status: 'revoked' })).toBeUndefined();
      const read = await store.getBySerial(r.record.serialNumber);
      expect(read?.status).toBe('issued');
      expect(read?.notification?.state).toBe('sent');
    });

    it('fail/update of a record without etag resolves undefined', async () => {
      const rec = testRecord(6);
      await store.create(rec);
      expect(await store.update(rec, { status: 'revoked' })).toBeUndefined();
    });

    it('ok/search filters by endpoint, status, subject and date, newest first', async () => {
      await store.create(testRecord(10, { endpoint: 'wifi' }));
      await store.create(testRecord(11, { endpoint: 'vpn' }));
      await store.create(testRecord(12, { endpoint: 'wifi', subject: 'CN=printer-12, O=Contoso' }));
      const revoked = await store.create(testRecord(13, { endpoint: 'wifi' }));
      if (!revoked.created) throw new Error('not created');
      await store.update(revoked.record, {
        status: 'revoked',
        revocation: { reason: 'superseded', date: at(20) },
      });

      const wifi = await store.search({ endpoint: 'wifi' });
      expect(wifi.items.map((r) => r.createdAt)).toEqual([at(13), at(12), at(10)]);
      expect(
        (await store.search({ endpoint: 'wifi', status: 'issued' })).items.map((r) => r.createdAt),
      ).toEqual([at(12), at(10)]);
      expect((await store.search({ subjectContains: 'printer' })).items.map((r) => r.createdAt)).toEqual([
        at(12),
      ]);
      expect(
        (await store.search({ issuedAfter: at(11), issuedBefore: at(13) })).items.map((r) => r.createdAt),
      ).toEqual([at(12), at(11)]);
      expect((await store.search({ status: 'revoked' })).items.map((r) => r.createdAt)).toEqual([at(13)]);
    });

    it('ok/search by subject prefix finds exactly the subjects that start with it, newest first', async () => {
      await store.create(testRecord(60, { subject: 'CN=laptop-1, O=Contoso' }));
      await store.create(testRecord(61, { subject: 'CN=laptop-2, O=Contoso' }));
      await store.create(testRecord(62, { subject: 'CN=phone-laptop-3, O=Contoso' }));
      await store.create(testRecord(63, { subject: 'CN=laptop, O=Contoso' }));
      const found = await store.search({ subjectPrefix: 'CN=laptop-' });
      expect(found.items.map((r) => r.subject)).toEqual(['CN=laptop-2, O=Contoso', 'CN=laptop-1, O=Contoso']);
      expect((await store.search({ subjectPrefix: 'CN=tablet' })).items).toEqual([]);
    });

    it('fail/a continuation token this store did not issue is BAD_REQUEST', async () => {
      await store.create(testRecord(70));
      await expect(store.search({ continuationToken: 'not-a-token' })).rejects.toMatchObject({
        code: 'BAD_REQUEST',
      });
    });

    it('ok/search filters by serial, thumbprint, SAN, account, organization, department, expiry and free text', async () => {
      const a = await store.create(
        testRecord(30, {
          accountId: 'acc-1',
          organization: 'contoso',
          department: 'it',
          sans: ['dns:kiosk-30.lab'],
        }),
      );
      const b = await store.create(
        testRecord(31, {
          accountId: 'acc-2',
          organization: 'fabrikam',
          notAfter: at(100),
          subject: 'CN=printer-31',
        }),
      );
      await store.create(testRecord(32));
      if (!a.created || !b.created) throw new Error('not created');
      const serials = async (q: Parameters<CertificateStore['search']>[0]): Promise<string[]> =>
        (await store.search(q)).items.map((r) => r.serialNumber);
      expect(await serials({ serialNumber: a.record.serialNumber })).toEqual([a.record.serialNumber]);
      expect(await serials({ thumbprint: b.record.thumbprintSha1 })).toEqual([b.record.serialNumber]);
      expect(await serials({ thumbprint: b.record.thumbprintSha256 })).toEqual([b.record.serialNumber]);
      expect(await serials({ sanContains: 'kiosk' })).toEqual([a.record.serialNumber]);
      expect(await serials({ accountId: 'acc-2' })).toEqual([b.record.serialNumber]);
      expect(await serials({ organization: 'contoso', department: 'it' })).toEqual([a.record.serialNumber]);
      expect(await serials({ organization: 'contoso', department: 'hr' })).toEqual([]);
      expect(await serials({ expiringBefore: at(1000) })).toEqual([b.record.serialNumber]);
      expect(await serials({ text: 'printer' })).toEqual([b.record.serialNumber]);
      expect(await serials({ text: 'kiosk-30' })).toEqual([a.record.serialNumber]);
      expect(await serials({ text: a.record.serialNumber.toUpperCase() })).toEqual([a.record.serialNumber]);
      expect(await serials({ text: b.record.thumbprintSha256.toLowerCase() })).toEqual([
        b.record.serialNumber,
      ]);
      expect((await store.getBySerial(a.record.serialNumber))?.organization).toBe('contoso');
    });

    it('ok/search pages with continuation tokens, no record twice or missed', async () => {
      const created: string[] = [];
      for (let i = 0; i < 7; i++) {
        const rec = testRecord(30 + i);
        await store.create(rec);
        created.push(rec.serialNumber);
      }
      const first = await store.search({ limit: 3 });
      expect(first.items).toHaveLength(3);
      expect(first.continuationToken).toBeTypeOf('string');
      const all = await searchAll(store, { limit: 3 });
      expect(all.pages).toBe(3);
      expect(all.items.map((r) => r.serialNumber).sort()).toEqual([...created].sort());
      expect(all.items.map((r) => r.createdAt)).toEqual(
        [...all.items.map((r) => r.createdAt)].sort().reverse(),
      );
    });

    it('ok/the re-drive query finds pending notifications older than a cutoff', async () => {
      const pending = (n: number) =>
        testRecord(n, {
          endpoint: 'intune',
          authorization: 'intune',
          notification: { state: 'pending', attempts: 0, updatedAt: at(n) },
        });
      await store.create(pending(40));
      await store.create(pending(41));
      await store.create(pending(50));
      await store.create(testRecord(42, { notification: { state: 'sent', attempts: 1, updatedAt: at(42) } }));
      await store.create(testRecord(43));
      const stale = await searchAll(store, { notificationState: 'pending', issuedBefore: at(45), limit: 1 });
      expect(stale.items.map((r) => r.createdAt)).toEqual([at(41), at(40)]);
      expect((await store.search({ notificationState: 'pending' })).items).toHaveLength(3);
    });

    it('ok/listRevoked yields the revoked records of one issuer with reason, date and notAfter', async () => {
      const revoked = [];
      for (let n = 60; n < 63; n++) {
        const r = await store.create(testRecord(n));
        if (!r.created) throw new Error('not created');
        const revocation = { reason: 'superseded' as const, date: at(n + 10) };
        revoked.push({ serialNumber: r.record.serialNumber, revocation, notAfter: r.record.notAfter });
        await store.update(r.record, { status: 'revoked', revocation });
      }
      await store.create(testRecord(63));
      const other = await store.create(testRecord(64, { issuer: 'CN=Other CA' }));
      if (!other.created) throw new Error('not created');
      await store.update(other.record, {
        status: 'revoked',
        revocation: { reason: 'unspecified', date: at(1) },
      });
      const listed = [];
      for await (const e of store.listRevoked('CN=Test CA')) listed.push(e);
      const bySerial = (a: { serialNumber: string }, b: { serialNumber: string }): number =>
        a.serialNumber < b.serialNumber ? -1 : 1;
      expect(listed.sort(bySerial)).toEqual(revoked.sort(bySerial));
    });

    it('ok/revocationEpoch changes when status or revocation changes, not on other updates', async () => {
      const r = await store.create(testRecord(70));
      if (!r.created) throw new Error('not created');
      const e0 = await store.revocationEpoch();
      const notified = await store.update(r.record, {
        notification: { state: 'sent', attempts: 1, updatedAt: at(71) },
      });
      expect(await store.revocationEpoch()).toBe(e0);
      const revoked = await store.update(notified!, {
        status: 'revoked',
        revocation: { reason: 'certificateHold', date: at(72) },
      });
      const e1 = await store.revocationEpoch();
      expect(e1).not.toBe(e0);
      await store.update(revoked!, { status: 'issued', revocation: undefined });
      const e2 = await store.revocationEpoch();
      expect(e2).not.toBe(e1);
      expect((await store.getBySerial(r.record.serialNumber))?.revocation).toBeUndefined();
    });

    it('ok/ping resolves', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });
  });
}
