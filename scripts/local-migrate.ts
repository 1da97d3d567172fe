import { readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { AppError } from '../lib/errors.js';
import { openSqlite } from '../lib/store/sqlite.js';
import { SqliteCertificateStore } from '../lib/store/sqlite-certificates.js';
import { LOCAL_DATABASE_FILE } from '../lib/store/local.js';
import type { CertificateRecord } from '../lib/store/types.js';

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
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  const snapshot = snapshotSchema.safeParse(safeJson(text));
  if (!snapshot.success) {
    throw new AppError('CONFIG_INVALID', `${file} is not a local Cosmos DB snapshot; move it away to start`);
  }
  const { fromCertificateDocument, fromClaimDocument } = await import('../lib/store/cosmos-schema.js');
  const records = new Map<string, CertificateRecord>();
  for (const db of snapshot.data.databases) {
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

const snapshotSchema = z.object({
  format: z.literal('azure-scep-ca/local-cosmos'),
  version: z.literal(1),
  databases: z.array(
    z.object({
      id: z.string(),
      containers: z.array(
        z.object({
          definition: z.looseObject({ id: z.string() }),
          documents: z.array(z.looseObject({ id: z.string() })),
        }),
      ),
    }),
  ),
});

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
