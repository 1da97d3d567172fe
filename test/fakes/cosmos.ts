import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { CosmosClient } from '@azure/cosmos';
import { createHttpServer } from '@vercel/cosmosdb-server';
import type { CosmosSettings } from '../../lib/config/cosmos.js';
import { CosmosCertificateStore } from '../../lib/store/cosmos.js';
import { createCosmosClient } from '../../lib/store/cosmos-factory.js';

/**
 * An in-process @vercel/cosmosdb-server on 127.0.0.1 for tests, reached through the real
 * @azure/cosmos client. Each `settings()`/`createStore()` call gets its own database, so tests
 * sharing one server do not see each other's records.
 */
export interface TestCosmos {
  readonly endpoint: string;
  readonly key: string;
  /** Settings for a fresh database on this server (or on `endpoint`, e.g. a fault proxy in front). */
  settings(overrides?: Partial<CosmosSettings>): CosmosSettings;
  /** A store on a fresh database; its client is disposed by close(). */
  createStore(overrides?: Partial<CosmosSettings>): CosmosCertificateStore;
  close(): Promise<void>;
}

export async function startTestCosmos(): Promise<TestCosmos> {
  const server = createHttpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}/`;
  const key = Buffer.from('test-key').toString('base64');
  const clients: CosmosClient[] = [];

  const settings = (overrides: Partial<CosmosSettings> = {}): CosmosSettings => ({
    endpoint,
    databaseName: `test-${randomUUID()}`,
    certificatesContainer: 'certificates',
    transactionsContainer: 'transactions',
    stateContainer: 'state',
    key,
    createIfNotExists: true,
    timeoutMs: 5000,
    maxThrottleRetries: 5,
    ...overrides,
  });

  return {
    endpoint,
    key,
    settings,
    createStore(overrides) {
      const s = settings(overrides);
      const client = createCosmosClient(s);
      clients.push(client);
      return new CosmosCertificateStore({
        client,
        databaseName: s.databaseName,
        certificatesContainer: s.certificatesContainer,
        transactionsContainer: s.transactionsContainer,
        stateContainer: s.stateContainer,
        timeoutMs: s.timeoutMs,
        createIfNotExists: s.createIfNotExists,
      });
    },
    async close() {
      for (const c of clients) c.dispose();
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      });
    },
  };
}
