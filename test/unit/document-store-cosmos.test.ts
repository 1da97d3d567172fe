import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { CosmosDocumentStore } from '../../lib/store/cosmos-documents.js';
import { createCosmosClient } from '../../lib/store/cosmos-factory.js';
import { type TestCosmos, startTestCosmos } from '../fakes/cosmos.js';
import { documentStoreContract } from './document-store-contract.js';

let cosmos: TestCosmos;
const clients: ReturnType<typeof createCosmosClient>[] = [];
beforeAll(async () => {
  cosmos = await startTestCosmos();
});
afterAll(async () => {
  for (const c of clients) c.dispose();
  await cosmos.close();
});

documentStoreContract('CosmosDocumentStore (local Cosmos-compatible server)', () => {
  const settings = cosmos.settings({ databaseName: `docs-${randomUUID()}` });
  const client = createCosmosClient(settings);
  clients.push(client);
  return new CosmosDocumentStore({
    client,
    databaseName: settings.databaseName,
    timeoutMs: settings.timeoutMs,
    createIfNotExists: true,
  });
});
