import { MemoryCertificateStore } from '../../lib/store/memory.js';
import { certificateStoreContract } from './store-contract.js';

certificateStoreContract('MemoryCertificateStore', () => new MemoryCertificateStore());
