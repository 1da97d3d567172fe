import { openSqlite } from '../../lib/store/sqlite.js';
import { SqliteDocumentStore } from '../../lib/store/sqlite-documents.js';
import { documentStoreContract } from './document-store-contract.js';

documentStoreContract('SqliteDocumentStore', () => new SqliteDocumentStore(openSqlite(':memory:')));
