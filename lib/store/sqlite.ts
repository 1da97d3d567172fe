import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'libsql';
import { AppError, isAppError } from '../errors.js';

/**
 * The embedded default's database: one SQLite file (libSQL's better-sqlite3-compatible
 * binding, whose native binaries ship inside npm packages) holding the certificate store and
 * the management plane's collections.
 *
 * - WAL journal: a commit appends to the write-ahead log; readers never block the writer.
 * - synchronous=NORMAL: a commit is in the operating system's hands when the call returns, so
 *   a killed process (kill -9, a crash) loses nothing it acknowledged; only a power loss or an
 *   OS crash can lose the last commits ("WAL mode with synchronous=NORMAL ... is always
 *   consistent" — sqlite.org/pragma.html#pragma_synchronous). FULL costs an fsync per
 *   enrollment that blocks the event loop.
 * - wal_autocheckpoint=10000 pages (~40 MB of log): the embedded default runs its checkpoints on
 *   a thread of its own (./sqlite-checkpoint.ts), which keeps the log far below this; the
 *   setting is the fallback for when that thread is not running. SQLite then copies the log into
 *   the database file inside the commit that crosses the threshold, and with synchronous=NORMAL
 *   that checkpoint syncs both files (sqlite.org/wal.html#ckpt), holding the event loop.
 * - busy_timeout: another connection writing at the same moment (a bulk import, an inspection
 *   with the sqlite3 shell) makes a write wait, not fail. Exclusive locking mode is not used:
 *   libSQL releases a closed connection only once its statements are garbage-collected, so an
 *   exclusive lock would outlive close() and block the next start in the same process.
 *
 * The binding is synchronous: a statement runs to completion before any other JavaScript, so
 * a read-then-write inside one call is atomic without an explicit transaction.
 */
export type Sqlite = Database.Database;

/** Write-ahead log pages between automatic checkpoints (see above). */
export const CHECKPOINT_PAGES = 10_000;

/** Schema version in PRAGMA user_version; migrations run in order up to it. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE certificates (
     serial TEXT PRIMARY KEY NOT NULL,
     transaction_key TEXT UNIQUE,
     subject TEXT NOT NULL,
     endpoint TEXT NOT NULL,
     status TEXT NOT NULL,
     notification_state TEXT,
     created_at TEXT NOT NULL,
     etag TEXT NOT NULL,
     record TEXT NOT NULL
   );
   CREATE INDEX certificates_created ON certificates (created_at, serial, subject);
   CREATE INDEX certificates_endpoint ON certificates (endpoint, created_at, serial);
   CREATE INDEX certificates_status ON certificates (status, created_at, serial);
   CREATE INDEX certificates_subject ON certificates (subject, created_at, serial);
   CREATE INDEX certificates_notification ON certificates (notification_state, created_at, serial)
     WHERE notification_state IS NOT NULL;
   CREATE TABLE documents (
     collection TEXT NOT NULL,
     partition TEXT NOT NULL,
     id TEXT NOT NULL,
     etag TEXT NOT NULL,
     body TEXT NOT NULL,
     PRIMARY KEY (collection, partition, id)
   );
   CREATE INDEX documents_by_id ON documents (collection, id, partition);`,
  // The management API's certificate search: exact look-ups by thumbprint, and the filters an
  // administrator narrows by (account, organization, expiry), on the record's JSON.
  `CREATE INDEX certificates_sha1 ON certificates (json_extract(record, '$.thumbprintSha1'));
   CREATE INDEX certificates_sha256 ON certificates (json_extract(record, '$.thumbprintSha256'));
   CREATE INDEX certificates_account ON certificates (json_extract(record, '$.accountId'), created_at, serial);
   CREATE INDEX certificates_organization ON certificates (json_extract(record, '$.organization'), created_at, serial);
   CREATE INDEX certificates_not_after ON certificates (json_extract(record, '$.notAfter'), created_at, serial);`,
  // Audit events (lib/audit/sqlite.ts): append-only; the filtered columns beside the event JSON,
  // each index ending in (time, id), the one order of the audit query.
  `CREATE TABLE audit (
     id TEXT PRIMARY KEY NOT NULL,
     time TEXT NOT NULL,
     endpoint TEXT,
     account TEXT,
     organization TEXT,
     department TEXT,
     outcome TEXT NOT NULL,
     reason TEXT NOT NULL,
     transaction_id TEXT,
     cn TEXT,
     subject TEXT,
     serial TEXT,
     actor TEXT,
     device TEXT,
     event TEXT NOT NULL
   );
   CREATE INDEX audit_time ON audit (time, id);
   CREATE INDEX audit_endpoint ON audit (endpoint, time, id);
   CREATE INDEX audit_organization ON audit (organization, time, id);
   CREATE INDEX audit_transaction ON audit (transaction_id, time, id) WHERE transaction_id IS NOT NULL;
   CREATE INDEX audit_cn ON audit (cn, time, id) WHERE cn IS NOT NULL;
   CREATE INDEX audit_subject ON audit (subject, time, id) WHERE subject IS NOT NULL;
   CREATE INDEX audit_serial ON audit (serial, time, id) WHERE serial IS NOT NULL;
   CREATE INDEX audit_device ON audit (device, time, id) WHERE device IS NOT NULL;
   CREATE INDEX audit_reason ON audit (reason, time, id);`,
];

/** Opens (creating it and its folder if needed) the database file and brings its schema up to date. */
export function openSqlite(file: string): Sqlite {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma(`wal_autocheckpoint = ${CHECKPOINT_PAGES}`);
    db.pragma('busy_timeout = 5000');
    migrate(db);
    return db;
  } catch (e) {
    db.close();
    throw sqliteFailure(`open ${file}`, e);
  }
}

function migrate(db: Sqlite): void {
  // libSQL returns rows (with an extra `_metadata` field) even for { simple: true }.
  const row = db.prepare('PRAGMA user_version').get() as { user_version?: unknown } | undefined;
  const version = Number(row?.user_version ?? 0);
  if (version > MIGRATIONS.length) {
    throw new AppError('CONFIG_INVALID', 'the database was written by a newer version of azure-scep-ca');
  }
  for (let v = version; v < MIGRATIONS.length; v += 1) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v] ?? '');
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

/** The SQLite result code of a thrown error (SQLITE_BUSY, SQLITE_CONSTRAINT_PRIMARYKEY, …). */
export function sqliteCode(e: unknown): string | undefined {
  const code: unknown = e instanceof Error ? (e as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

/** A failure of the database as an AppError the callers already handle (no record, no certificate). */
export function sqliteFailure(what: string, e: unknown): AppError {
  if (isAppError(e)) return e;
  return new AppError('DEPENDENCY_UNAVAILABLE', `the local database failed to ${what}`, {
    cause: e,
    detail: { sqlite: sqliteCode(e) },
  });
}

/** Runs `f` and turns what it throws into a rejection carrying an AppError. */
export function settleSql<R>(what: string, f: () => R): Promise<R> {
  try {
    return Promise.resolve(f());
  } catch (e) {
    return Promise.reject(sqliteFailure(what, e));
  }
}

/** An opaque, URL-safe keyset position ("after this row"), marked so a foreign token is refused. */
export function encodeKeyset(prefix: string, position: readonly string[]): string {
  return prefix + Buffer.from(JSON.stringify(position), 'utf8').toString('base64url');
}

export function decodeKeyset(prefix: string, token: string, size: number): string[] {
  const body = token.startsWith(prefix) ? token.slice(prefix.length) : undefined;
  let parsed: unknown;
  try {
    parsed =
      body !== undefined && /^[A-Za-z0-9_-]+$/.test(body)
        ? JSON.parse(Buffer.from(body, 'base64url').toString('utf8'))
        : undefined;
  } catch {
    parsed = undefined;
  }
  if (!Array.isArray(parsed) || parsed.length !== size || !parsed.every((p) => typeof p === 'string')) {
    throw new AppError('BAD_REQUEST', 'the continuation token is not valid for this store');
  }
  return parsed;
}
