import { randomUUID } from 'node:crypto';
import { AppError } from '../errors.js';
import type {
  CertificateQuery,
  CertificateRecord,
  CertificateStore,
  CreateResult,
  RevokedEntry,
} from './types.js';

/** In-process store for tests and the embedded default without a database. */
export class MemoryCertificateStore implements CertificateStore {
  private readonly bySerial = new Map<string, CertificateRecord>();
  private readonly byTransaction = new Map<string, string>();
  private epoch = 0;

  create(record: CertificateRecord): Promise<CreateResult> {
    if (record.transactionKey !== undefined) {
      const serial = this.byTransaction.get(record.transactionKey);
      const existing = serial === undefined ? undefined : this.bySerial.get(serial);
      if (existing) return Promise.resolve({ created: false, existing });
    }
    if (this.bySerial.has(record.serialNumber)) {
      return Promise.reject(new Error(`duplicate serial number ${record.serialNumber}`));
    }
    const stored = { ...record, etag: randomUUID() };
    this.bySerial.set(record.serialNumber, stored);
    if (record.transactionKey !== undefined)
      this.byTransaction.set(record.transactionKey, record.serialNumber);
    return Promise.resolve({ created: true, record: stored });
  }

  getBySerial(serialNumber: string): Promise<CertificateRecord | undefined> {
    return Promise.resolve(this.bySerial.get(serialNumber));
  }

  getByTransactionKey(transactionKey: string): Promise<CertificateRecord | undefined> {
    const serial = this.byTransaction.get(transactionKey);
    return Promise.resolve(serial === undefined ? undefined : this.bySerial.get(serial));
  }

  update(
    record: CertificateRecord,
    change: Partial<Pick<CertificateRecord, 'status' | 'revocation' | 'notification'>>,
  ): Promise<CertificateRecord | undefined> {
    const current = this.bySerial.get(record.serialNumber);
    if (!current || current.etag !== record.etag) return Promise.resolve(undefined);
    const next = { ...current, ...change, etag: randomUUID() };
    this.bySerial.set(record.serialNumber, next);
    if ('status' in change || 'revocation' in change) this.epoch += 1;
    return Promise.resolve(next);
  }

  search(query: CertificateQuery): Promise<{ items: CertificateRecord[]; continuationToken?: string }> {
    const all = [...this.bySerial.values()]
      .filter((r) => matches(r, query))
      .sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
    const token = query.continuationToken;
    if (token !== undefined && !/^\d+$/.test(token)) {
      return Promise.reject(
        new AppError('BAD_REQUEST', 'the continuation token is not valid for this store'),
      );
    }
    const start = token === undefined ? 0 : Number(token);
    const limit = query.limit ?? 100;
    const items = all.slice(start, start + limit);
    const next = start + limit < all.length ? String(start + limit) : undefined;
    return Promise.resolve(next === undefined ? { items } : { items, continuationToken: next });
  }

  async *listRevoked(issuer: string): AsyncIterable<RevokedEntry> {
    await Promise.resolve();
    for (const r of this.bySerial.values()) {
      if (r.status === 'revoked' && r.revocation && r.issuer === issuer)
        yield { serialNumber: r.serialNumber, revocation: r.revocation, notAfter: r.notAfter };
    }
  }

  revocationEpoch(): Promise<string> {
    return Promise.resolve(String(this.epoch));
  }

  ping(): Promise<void> {
    return Promise.resolve();
  }

  /** Test helper: number of records. */
  get size(): number {
    return this.bySerial.size;
  }
}

/** The filters of CertificateQuery, as lib/store/cosmos-query.ts expresses them in SQL. */
function matches(r: CertificateRecord, q: CertificateQuery): boolean {
  const eq = <T>(want: T | undefined, have: T): boolean => want === undefined || want === have;
  const anySan = (text: string): boolean => r.sans.some((s) => s.includes(text));
  return (
    eq(q.endpoint, r.endpoint) &&
    eq(q.status, r.status) &&
    (q.notificationState === undefined || r.notification?.state === q.notificationState) &&
    (q.subjectContains === undefined || r.subject.includes(q.subjectContains)) &&
    (q.subjectPrefix === undefined || r.subject.startsWith(q.subjectPrefix)) &&
    (q.issuedAfter === undefined || r.createdAt >= q.issuedAfter) &&
    (q.issuedBefore === undefined || r.createdAt < q.issuedBefore) &&
    eq(q.serialNumber, r.serialNumber) &&
    (q.thumbprint === undefined ||
      q.thumbprint === r.thumbprintSha1 ||
      q.thumbprint === r.thumbprintSha256) &&
    (q.sanContains === undefined || anySan(q.sanContains)) &&
    (q.accountId === undefined || r.accountId === q.accountId) &&
    (q.organization === undefined || r.organization === q.organization) &&
    (q.department === undefined || r.department === q.department) &&
    (q.expiringBefore === undefined || r.notAfter < q.expiringBefore) &&
    (q.text === undefined ||
      r.subject.includes(q.text) ||
      anySan(q.text) ||
      r.serialNumber === q.text.toLowerCase() ||
      r.thumbprintSha1 === q.text.toUpperCase() ||
      r.thumbprintSha256 === q.text.toUpperCase())
  );
}
