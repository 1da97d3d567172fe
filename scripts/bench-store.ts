import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { openSqlite, encodeKeyset } from '../lib/store/sqlite.js';
import { SqliteCertificateStore } from '../lib/store/sqlite-certificates.js';
import { LOCAL_DATABASE_FILE } from '../lib/store/local.js';
import type { CertificateQuery, CertificateRecord } from '../lib/store/types.js';

/**
 * The bench's direct access to the embedded database: pre-load a data folder with `count`
 * certificate records (one transaction, straight into the file, before the host starts), and
 * time the management queries the issue of size is about: a page of 50, a page deep in the
 * store, a subject-prefix search and a subject-contains search.
 */
export function preload(dataDir: string, count: number): number {
  const t0 = performance.now();
  const db = openSqlite(join(dataDir, LOCAL_DATABASE_FILE));
  const insert = db.prepare<Record<string, string>>(
    `INSERT INTO certificates
       (serial, transaction_key, subject, endpoint, status, notification_state, created_at, etag, record)
     VALUES (@serial, @transactionKey, @subject, 'static', 'issued', NULL, @createdAt, @etag, @record)`,
  );
  const der = randomBytes(800).toString('base64'); // about the size of an issued certificate
  const start = Date.UTC(2025, 0, 1);
  db.transaction(() => {
    for (let n = 0; n < count; n += 1) {
      const serial = randomBytes(16)
        .toString('hex')
        .replace(/^[89a-f]/, '1');
      const createdAt = new Date(start + n * 1000).toISOString();
      const record: CertificateRecord = {
        serialNumber: serial,
        thumbprintSha1: serial.slice(0, 40).toUpperCase().padEnd(40, '0'),
        thumbprintSha256: serial.toUpperCase().padEnd(64, '0'),
        subject: `CN=preloaded-${n}, O=Bench`,
        sans: [`dns:preloaded-${n}.bench.test`],
        issuer: 'CN=azure-scep-ca Local Root CA, O=azure-scep-ca',
        notBefore: createdAt,
        notAfter: createdAt,
        endpoint: 'static',
        authorization: 'static',
        transactionId: `preloaded-${n}`,
        transactionKey: `static|preloaded-${n}|PKCSReq`,
        publicKeySha256: serial.padEnd(64, '0'),
        status: 'issued',
        der,
        createdAt,
      };
      insert.run({
        serial,
        transactionKey: record.transactionKey ?? '',
        subject: record.subject,
        createdAt,
        etag: serial,
        record: JSON.stringify(record),
      });
    }
  })();
  db.close();
  return performance.now() - t0;
}

export interface QueryTiming {
  readonly name: string;
  readonly found: number;
  readonly p50: number;
  readonly max: number;
}

/** Each query 21 times on a connection of its own (the first run warms the page cache and is dropped). */
export async function timeQueries(dataDir: string, count: number): Promise<QueryTiming[]> {
  const db = openSqlite(join(dataDir, LOCAL_DATABASE_FILE));
  const store = new SqliteCertificateStore(db);
  const middle = new Date(Date.UTC(2025, 0, 1) + Math.floor(count / 2) * 1000).toISOString();
  const queries: [string, CertificateQuery][] = [
    ['newest page of 50', { limit: 50 }],
    [
      'page of 50 in the middle (keyset)',
      { limit: 50, continuationToken: encodeKeyset('s1.', [middle, 'f']) },
    ],
    ['subject prefix "CN=preloaded-4242"', { subjectPrefix: 'CN=preloaded-4242', limit: 50 }],
    ['subject prefix "CN=preloaded-1" (broad), page of 50', { subjectPrefix: 'CN=preloaded-1', limit: 50 }],
    ['subject contains "loaded-77777" (scan)', { subjectContains: 'loaded-77777', limit: 50 }],
  ];
  const out: QueryTiming[] = [];
  try {
    for (const [name, query] of queries) {
      const times: number[] = [];
      let found = 0;
      for (let i = 0; i < 21; i += 1) {
        const t0 = performance.now();
        found = (await store.search(query)).items.length;
        if (i > 0) times.push(performance.now() - t0);
      }
      times.sort((a, b) => a - b);
      out.push({ name, found, p50: times[10] ?? NaN, max: times[times.length - 1] ?? NaN });
    }
  } finally {
    db.close();
  }
  return out;
}
