import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import { openSqlite } from '../lib/store/sqlite.js';
import { SqliteCertificateStore } from '../lib/store/sqlite-certificates.js';
import { LOCAL_DATABASE_FILE } from '../lib/store/local.js';
import type { CertificateRecord } from '../lib/store/types.js';
import { loadSnapshot } from './local-snapshot.js';

/**
 * Upgrade of a data folder from the versions whose `npm start` kept records in an embedded
 * Cosmos-compatible server snapshotted to `.data/cosmos.json`: on the first start with the
 * embedded database, every certificate document and every transaction claim (a claim whose
 * certificate document never landed is the certificate, rolled forward as the Cosmos store
 * would) is written to `.data/ca.db`, then the snapshot is renamed to `cosmos.json.migrated`.
 * Records already in the database are left as they are, so an interrupted migration simply
 * runs again. A snapshot that cannot be read stops the start: nothing is discarded silently.
 */
export async function migrateLocalCosmos(dataDir: string): Promise<{ imported: number } | undefined> {
  const file = join(dataDir, 'cosmos.json');
  const snapshot = await loadSnapshot(file);
  if (!snapshot) return undefined;
  const { fromCertificateDocument, fromClaimDocument } = await import('../lib/store/cosmos-schema.js');
  const records = new Map<string, CertificateRecord>();
  for (const db of snapshot.databases) {
    for (const { definition, documents } of db.containers) {
      for (const doc of documents) {
        const record =
          definition.id === 'transactions'
            ? fromClaimDocument(doc).record
            : definition.id === 'certificates'
              ? fromCertificateDocument(doc)
              : undefined;
        // A certificate document wins over its claim's copy (it carries later updates).
        if (record && (definition.id === 'certificates' || !records.has(record.serialNumber))) {
          records.set(record.serialNumber, { ...record, etag: undefined });
        }
      }
    }
  }
  const db = openSqlite(join(dataDir, LOCAL_DATABASE_FILE));
  let imported = 0;
  try {
    const store = new SqliteCertificateStore(db);
    db.exec('BEGIN');
    for (const record of records.values()) {
      if ((await store.getBySerial(record.serialNumber)) !== undefined) continue;
      if ((await store.create(record)).created) imported += 1;
    }
    db.exec('COMMIT');
  } catch (e) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw e;
  } finally {
    db.close();
  }
  await rename(file, `${file}.migrated`);
  return { imported };
}
