import { randomUUID } from 'node:crypto';
import { AppError } from '../errors.js';
import { decodeKeyset, encodeKeyset, settleSql, sqliteCode, type Sqlite } from './sqlite.js';
import { BROAD_PREFIX, PREFIX_MATCHES, certificateSearch, prefixRange } from './sqlite-query.js';
import type {
  CertificateQuery,
  CertificateRecord,
  CertificateStore,
  CreateResult,
  RevocationReason,
  RevokedEntry,
} from './types.js';

type Change = Partial<Pick<CertificateRecord, 'status' | 'revocation' | 'notification'>>;

interface Row {
  readonly record: string;
  readonly etag: string;
}

/**
 * The certificate store in the embedded database (lib/store/sqlite.ts). One row per
 * certificate: the whole record as JSON, plus the columns the database enforces and searches:
 *
 * - `serial` is the primary key and `transaction_key` is UNIQUE: one serial per certificate and
 *   one certificate per transaction are the database's rules, not only the application's;
 * - subject, endpoint, status, notification state and createdAt are indexed together with
 *   (created_at, serial), the order of every search, so a page is an index range read whatever
 *   the store's size. Pages continue from the last row seen (keyset), never by OFFSET.
 */
export class SqliteCertificateStore implements CertificateStore {
  private readonly insert;
  private readonly bySerial;
  private readonly byTransactionKey;
  private readonly replace;
  private readonly prefixMatches;
  private readonly statements = new Map<string, ReturnType<Sqlite['prepare']>>();
  private readonly revokedPage;
  /** The embedded database belongs to one process: its revocation epoch is a counter here. */
  private epoch = 0;

  constructor(private readonly db: Sqlite) {
    this.insert = db.prepare<Record<string, string | null>>(
      `INSERT INTO certificates
         (serial, transaction_key, subject, endpoint, status, notification_state, created_at, etag, record)
       VALUES (@serial, @transactionKey, @subject, @endpoint, @status, @notificationState, @createdAt, @etag, @record)
       ON CONFLICT (transaction_key) DO NOTHING`,
    );
    this.bySerial = db.prepare<[string]>('SELECT record, etag FROM certificates WHERE serial = ?');
    this.byTransactionKey = db.prepare<[string]>(
      'SELECT record, etag FROM certificates WHERE transaction_key = ?',
    );
    this.prefixMatches = db.prepare<Record<string, string>>(PREFIX_MATCHES);
    // CRL entries: the status index in (created_at, serial) order, a page at a time.
    this.revokedPage = db.prepare<Record<string, string>>(
      `SELECT serial, created_at,
         json_extract(record, '$.issuer') AS issuer, json_extract(record, '$.notAfter') AS not_after,
         json_extract(record, '$.revocation.reason') AS reason, json_extract(record, '$.revocation.date') AS date
       FROM certificates WHERE status = 'revoked' AND (created_at, serial) > (@createdAt, @serial)
       ORDER BY created_at, serial LIMIT 1000`,
    );
    this.replace = db.prepare<Record<string, string | null>>(
      `UPDATE certificates SET status = @status, notification_state = @notificationState,
         etag = @etag, record = @record
       WHERE serial = @serial AND etag = @expected`,
    );
  }

  create(record: CertificateRecord): Promise<CreateResult> {
    return settleSql('record a certificate', () => {
      const etag = randomUUID();
      try {
        if (this.insert.run(columns(record, etag)).changes === 1) {
          return { created: true, record: { ...withoutEtag(record), etag } };
        }
      } catch (e) {
        if (sqliteCode(e) !== 'SQLITE_CONSTRAINT_PRIMARYKEY') throw e;
        // The same certificate written again (a retried write) counts as written, as in Cosmos DB.
        const same = this.read(this.bySerial.get(record.serialNumber));
        if (same?.thumbprintSha256 === record.thumbprintSha256) return { created: true, record: same };
        throw new AppError('CONFLICT', 'the serial number is already used by another certificate', {
          detail: { serialNumber: record.serialNumber },
        });
      }
      const existing = this.read(this.byTransactionKey.get(record.transactionKey ?? ''));
      if (!existing) throw new AppError('INTERNAL', 'a transaction key conflict without its record');
      return { created: false, existing };
    });
  }

  getBySerial(serialNumber: string): Promise<CertificateRecord | undefined> {
    return settleSql('read a certificate', () => this.read(this.bySerial.get(serialNumber)));
  }

  getByTransactionKey(transactionKey: string): Promise<CertificateRecord | undefined> {
    return settleSql('read a certificate', () => this.read(this.byTransactionKey.get(transactionKey)));
  }

  update(record: CertificateRecord, change: Change): Promise<CertificateRecord | undefined> {
    const expected = record.etag;
    if (expected === undefined) return Promise.resolve(undefined);
    return settleSql('update a certificate', () => {
      const current = this.read(this.bySerial.get(record.serialNumber));
      if (current?.etag !== expected) return undefined;
      const next = { ...withoutEtag(current), ...change };
      const etag = randomUUID();
      const { status, notificationState, record: json } = columns(next, etag);
      const r = this.replace.run({
        serial: record.serialNumber,
        status,
        notificationState,
        etag,
        record: json,
        expected,
      });
      if (r.changes !== 1) return undefined;
      if ('status' in change || 'revocation' in change) this.epoch += 1;
      return { ...next, etag };
    });
  }

  async *listRevoked(issuer: string): AsyncIterable<RevokedEntry> {
    let after = { createdAt: '', serial: '' };
    for (;;) {
      const rows = (await settleSql('list revoked certificates', () => this.revokedPage.all(after))) as {
        serial: string;
        created_at: string;
        issuer: string;
        not_after: string;
        reason: string;
        date: string;
      }[];
      for (const r of rows) {
        if (r.issuer === issuer && typeof r.reason === 'string')
          yield {
            serialNumber: r.serial,
            notAfter: r.not_after,
            revocation: { reason: r.reason as RevocationReason, date: r.date },
          };
      }
      const last = rows[rows.length - 1];
      if (!last || rows.length < 1000) return;
      after = { createdAt: last.created_at, serial: last.serial };
    }
  }

  revocationEpoch(): Promise<string> {
    return Promise.resolve(String(this.epoch));
  }

  search(query: CertificateQuery): Promise<{ items: CertificateRecord[]; continuationToken?: string }> {
    return settleSql('search certificates', () => {
      const after =
        query.continuationToken === undefined ? undefined : decodeKeyset(TOKEN, query.continuationToken, 2);
      const broad =
        query.subjectPrefix !== undefined &&
        (this.prefixMatches.get(prefixRange(query.subjectPrefix)) as { n: number }).n >= BROAD_PREFIX;
      const { sql, params, limit } = certificateSearch(query, after, broad);
      const rows = this.statement(sql).all(params) as (Row & {
        serial: string;
        created_at: string;
      })[];
      const items = rows.slice(0, limit).map((r) => parseRecord(r));
      const last = rows[limit - 1];
      return rows.length > limit && last
        ? { items, continuationToken: encodeKeyset(TOKEN, [last.created_at, last.serial]) }
        : { items };
    });
  }

  ping(): Promise<void> {
    return settleSql('answer', () => {
      this.db.prepare('SELECT 1').get();
    });
  }

  /** Search statements by text: a handful of filter combinations, each prepared once. */
  private statement(sql: string): ReturnType<Sqlite['prepare']> {
    let st = this.statements.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      this.statements.set(sql, st);
    }
    return st;
  }

  private read(row: unknown): CertificateRecord | undefined {
    return row === undefined ? undefined : parseRecord(row as Row);
  }
}

const TOKEN = 's1.';

interface Columns extends Record<string, string | null> {
  readonly serial: string;
  readonly transactionKey: string | null;
  readonly subject: string;
  readonly endpoint: string;
  readonly status: string;
  readonly notificationState: string | null;
  readonly createdAt: string;
  readonly etag: string;
  readonly record: string;
}

function columns(record: CertificateRecord, etag: string): Columns {
  return {
    serial: record.serialNumber,
    transactionKey: record.transactionKey ?? null,
    subject: record.subject,
    endpoint: record.endpoint,
    status: record.status,
    notificationState: record.notification?.state ?? null,
    createdAt: record.createdAt,
    etag,
    record: JSON.stringify(withoutEtag(record)),
  };
}

function withoutEtag({ etag: _etag, ...rest }: CertificateRecord): CertificateRecord {
  return rest;
}

/** The stored JSON is written only by this store; a row that is not a record is corruption. */
function parseRecord(row: Row): CertificateRecord {
  const parsed: unknown = JSON.parse(row.record);
  if (
    typeof parsed !== 'object' ||
    parsed === null ||
    typeof (parsed as { serialNumber?: unknown }).serialNumber !== 'string'
  ) {
    throw new AppError('INTERNAL', 'a stored row is not a certificate record');
  }
  return { ...(parsed as CertificateRecord), etag: row.etag };
}
