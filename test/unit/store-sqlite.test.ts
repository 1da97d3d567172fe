import { openSqlite } from '../../lib/store/sqlite.js';
import { SqliteCertificateStore } from '../../lib/store/sqlite-certificates.js';
import { certificateStoreContract } from './store-contract.js';

certificateStoreContract('SqliteCertificateStore', () => new SqliteCertificateStore(openSqlite(':memory:')));
