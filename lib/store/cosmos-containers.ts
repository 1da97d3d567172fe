import type { CosmosClient } from '@azure/cosmos';
import {
  CERTIFICATES_INDEXING_POLICY,
  CERTIFICATES_PARTITION_KEY,
  STATE_INDEXING_POLICY,
  STATE_PARTITION_KEY,
  TRANSACTIONS_INDEXING_POLICY,
  TRANSACTIONS_PARTITION_KEY,
} from './cosmos-schema.js';

/**
 * The certificate store's database and containers, created if absent with their partition keys
 * and indexing policies (local only; Bicep creates them in Azure).
 */
export async function createContainers(
  o: {
    client: CosmosClient;
    databaseName: string;
    certificatesContainer: string;
    transactionsContainer: string;
    stateContainer: string;
  },
  signal: AbortSignal,
): Promise<void> {
  const { database } = await o.client.databases.createIfNotExists(
    { id: o.databaseName },
    { abortSignal: signal },
  );
  await database.containers.createIfNotExists(
    {
      id: o.certificatesContainer,
      partitionKey: CERTIFICATES_PARTITION_KEY,
      indexingPolicy: CERTIFICATES_INDEXING_POLICY,
    },
    { abortSignal: signal },
  );
  await database.containers.createIfNotExists(
    {
      id: o.transactionsContainer,
      partitionKey: TRANSACTIONS_PARTITION_KEY,
      indexingPolicy: TRANSACTIONS_INDEXING_POLICY,
    },
    { abortSignal: signal },
  );
  await database.containers.createIfNotExists(
    { id: o.stateContainer, partitionKey: STATE_PARTITION_KEY, indexingPolicy: STATE_INDEXING_POLICY },
    { abortSignal: signal },
  );
}
