import { MemoryDocumentStore } from '../../lib/store/documents-memory.js';
import { documentStoreContract } from './document-store-contract.js';

documentStoreContract('MemoryDocumentStore', () => new MemoryDocumentStore());
