import { MemoryAuditStore } from '../../lib/audit/memory.js';
import { auditStoreContract } from './audit-store-contract.js';

auditStoreContract('MemoryAuditStore', () => new MemoryAuditStore());
