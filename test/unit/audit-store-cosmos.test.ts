import { randomUUID } from 'node:crypto';
import type { CosmosClient } from '@azure/cosmos';
import { afterAll, beforeAll } from 'vitest';
import { CosmosAuditStore } from '../../lib/audit/cosmos.js';
import { createCosmosClient } from '../../lib/store/cosmos-factory.js';
import { startTestCosmos, type TestCosmos } from '../fakes/cosmos.js';
import { auditStoreContract } from './audit-store-contract.js';

let cosmos: TestCosmos;
const clients: CosmosClient[] = [];
beforeAll(async () => {
  cosmos = await startTestCosmos();
});
afterAll(async () => {
  for (const c of clients) c.dispose();
  await cosmos.close();
});

auditStoreContract('CosmosAuditStore', () => {
  const settings = cosmos.settings();
  const client = createCosmosClient(settings);
  clients.push(client);
  return new CosmosAuditStore({
    client,
    databaseName: `audit-${randomUUID()}`,
    container: 'audit',
    retentionDays: 400,
    timeoutMs: 10_000,
    createIfNotExists: true,
  });
});
