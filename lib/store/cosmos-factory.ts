import { CosmosClient, type CosmosClientOptions } from '@azure/cosmos';
import type { CosmosSettings } from '../config/cosmos.js';
import { AppError } from '../errors.js';
import { CosmosCertificateStore } from './cosmos.js';
import { CosmosDocumentStore } from './cosmos-documents.js';
import type { DocumentStore } from './documents.js';
import type { CertificateStore } from './types.js';

/** An Entra ID credential (@azure/identity), built once by the composition root. */
export type CosmosCredential = NonNullable<CosmosClientOptions['aadCredentials']>;

/**
 * The Cosmos DB certificate store from settings. In Azure: Entra ID with the app's managed
 * identity (`credential`), which needs the "Cosmos DB Built-in Data Contributor" data-plane
 * role on the account; local: the key of the embedded server. Throws CONFIG_INVALID when
 * there is no endpoint (the caller uses the in-memory store then) or no way to authenticate.
 */
export function createCosmosStore(
  settings: {
    readonly cosmos: CosmosSettings;
    readonly core: { readonly static: { readonly enableCertificateStorage: boolean } };
  },
  credential?: CosmosCredential,
): CertificateStore {
  const { cosmos } = settings;
  const store = new CosmosCertificateStore({
    client: createCosmosClient(cosmos, credential),
    databaseName: cosmos.databaseName,
    certificatesContainer: cosmos.certificatesContainer,
    transactionsContainer: cosmos.transactionsContainer,
    stateContainer: cosmos.stateContainer,
    timeoutMs: cosmos.timeoutMs,
    createIfNotExists: cosmos.createIfNotExists,
  });
  return store;
}

/** The SDK client: bounded per-request timeout and bounded 429 retries (x-ms-retry-after-ms honoured). */
export function createCosmosClient(cosmos: CosmosSettings, credential?: CosmosCredential): CosmosClient {
  if (cosmos.endpoint === undefined) {
    throw new AppError('CONFIG_INVALID', 'AppConfig__CosmosDb__Endpoint is not set');
  }
  const auth: Pick<CosmosClientOptions, 'key' | 'aadCredentials'> =
    cosmos.key !== undefined ? { key: cosmos.key } : credential ? { aadCredentials: credential } : {};
  if (auth.key === undefined && auth.aadCredentials === undefined) {
    throw new AppError(
      'CONFIG_INVALID',
      'AppConfig__CosmosDb__Endpoint is set but there is neither AppConfig__CosmosDb__Key (local) nor an Entra ID credential',
    );
  }
  return new CosmosClient({
    endpoint: cosmos.endpoint,
    ...auth,
    userAgentSuffix: 'azure-scep-ca',
    connectionPolicy: {
      // A plain-HTTP (local) server advertises an https endpoint the SDK would otherwise follow.
      enableEndpointDiscovery: new URL(cosmos.endpoint).protocol === 'https:',
      requestTimeout: cosmos.timeoutMs,
      retryOptions: {
        maxRetryAttemptCount: cosmos.maxThrottleRetries,
        maxWaitTimeInSeconds: Math.ceil(cosmos.timeoutMs / 1000),
      },
    },
  });
}

/** The certificate store and the management plane's collections on one Cosmos DB account. */
export function createCosmosStores(
  settings: Parameters<typeof createCosmosStore>[0],
  credential?: CosmosCredential,
): { store: CertificateStore; documents: DocumentStore } {
  const { cosmos } = settings;
  return {
    store: createCosmosStore(settings, credential),
    documents: new CosmosDocumentStore({
      client: createCosmosClient(cosmos, credential),
      databaseName: cosmos.databaseName,
      timeoutMs: cosmos.timeoutMs,
      createIfNotExists: cosmos.createIfNotExists,
    }),
  };
}
