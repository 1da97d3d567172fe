import { join } from 'node:path';
import type { CoreSettings } from '../config/core.js';
import { MemoryDocumentStore } from './documents-memory.js';
import type { DocumentStore } from './documents.js';
import { MemoryCertificateStore } from './memory.js';
import { openSqlite } from './sqlite.js';
import { SqliteCertificateStore } from './sqlite-certificates.js';
import { SqliteDocumentStore } from './sqlite-documents.js';
import type { CertificateStore } from './types.js';

/** The embedded database's file in the data folder. */
export const LOCAL_DATABASE_FILE = 'ca.db';

/**
 * The stores without Cosmos DB: the embedded database at `<dataDir>/ca.db` (default), or
 * memory (AppConfig__LocalStore=memory). `close` releases the database file.
 */
export function createLocalStores(core: Pick<CoreSettings, 'dataDir' | 'localStore'>): {
  store: CertificateStore;
  documents: DocumentStore;
  description: string;
  close: () => void;
} {
  if (core.localStore === 'memory') {
    return {
      store: new MemoryCertificateStore(),
      documents: new MemoryDocumentStore(),
      description: 'memory',
      close: () => undefined,
    };
  }
  const file = join(core.dataDir, LOCAL_DATABASE_FILE);
  const db = openSqlite(file);
  return {
    store: new SqliteCertificateStore(db),
    documents: new SqliteDocumentStore(db),
    description: `sqlite:${file}`,
    close: () => {
      if (db.open) db.close();
    },
  };
}
