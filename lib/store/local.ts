import { join } from 'node:path';
import type { CoreSettings } from '../config/core.js';
import { MemoryDocumentStore } from './documents-memory.js';
import type { DocumentStore } from './documents.js';
import { MemoryCertificateStore } from './memory.js';
import type { Sqlite } from './sqlite.js';
import type { CertificateStore } from './types.js';

/** The embedded database's file in the data folder. */
export const LOCAL_DATABASE_FILE = 'ca.db';

/**
 * The stores without Cosmos DB: the embedded database at `<dataDir>/ca.db` (default), or
 * memory (AppConfig__LocalStore=memory). `close` releases the database file. `warn` hears of
 * the database's checkpoint thread failing (./sqlite-checkpoint.ts); nothing is lost then.
 */
export async function createLocalStores(
  core: Pick<CoreSettings, 'dataDir' | 'localStore'>,
  warn: (message: string) => void = () => undefined,
): Promise<{
  store: CertificateStore;
  documents: DocumentStore;
  description: string;
  close: () => void;
  /** The embedded database, for the audit trail's table. */
  database?: Sqlite;
}> {
  if (core.localStore === 'memory') {
    return {
      store: new MemoryCertificateStore(),
      documents: new MemoryDocumentStore(),
      description: 'memory',
      close: () => undefined,
    };
  }
  // Loaded only here: the native binding is not part of the Azure deployment package.
  const { openSqlite } = await import('./sqlite.js');
  const { SqliteCertificateStore } = await import('./sqlite-certificates.js');
  const { SqliteDocumentStore } = await import('./sqlite-documents.js');
  const { startCheckpointer } = await import('./sqlite-checkpoint.js');
  const file = join(core.dataDir, LOCAL_DATABASE_FILE);
  const db = openSqlite(file);
  const checkpoints = startCheckpointer(db, file, warn);
  return {
    store: new SqliteCertificateStore(db),
    documents: new SqliteDocumentStore(db),
    description: `sqlite:${file}`,
    database: db,
    close: () => {
      checkpoints.stop();
      if (db.open) db.close();
    },
  };
}
