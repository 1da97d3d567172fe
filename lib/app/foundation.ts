import type { TokenCredential } from '@azure/identity';
import { createAudit } from '../audit/factory.js';
import { recordKeyEvent } from '../audit/keys.js';
import type { AuditSink } from '../audit/sink.js';
import type { AuditStore } from '../audit/store.js';
import type { LiveCa } from '../ca/holder.js';
import { NEXT_CA_RELOAD_MS, resolveActiveCa } from '../ca/next-factory.js';
import type { Settings } from '../config/index.js';
import type { CaKeys } from '../keys/types.js';
import type { Logger } from '../log.js';
import type { DocumentStore } from '../store/documents.js';
import type { CertificateStore } from '../store/types.js';
import { liveCa, loadCaKeys } from './ca.js';

/** What everything else is built on: the Azure credential, the stores, the audit trail, the CAs. */
export interface Foundation {
  /** Azure credential (Key Vault, Cosmos DB), created on first use. */
  readonly credential: () => Promise<TokenCredential>;
  readonly store: CertificateStore;
  readonly documents: DocumentStore;
  /** Where the certificates are kept, for the start-up log line. */
  readonly description: string;
  /** Releases the embedded database file. */
  readonly close: () => void;
  readonly audit: AuditSink;
  readonly auditStore: AuditStore;
  readonly cas: LiveCa;
  /** The issuing CA at start. */
  readonly ca: CaKeys;
}

/**
 * The CA key and the stores (loaded side by side), the CA that issues after an activation, the
 * audit trail (which records the CA key's loading) and the CAs as picked up while running.
 */
export async function createFoundation(
  settings: Settings,
  options: {
    readonly credential?: TokenCredential | undefined;
    readonly documents?: DocumentStore | undefined;
    readonly activeCaReloadMs?: number | undefined;
  },
  o: { logger: Logger; clock: () => Date },
): Promise<Foundation> {
  const { logger, clock } = o;
  const credential = azureCredential(settings, options.credential);
  const [{ ca: configuredCa, created }, { store, documents: storedDocuments, description, close, database }] =
    await Promise.all([loadCaKeys(settings, credential, logger), createStore(settings, credential, logger)]);
  const documents = options.documents ?? storedDocuments;
  // After an activation (POST api/manage/ca-certificates/next/activate) the next CA issues from
  // the next start on; the configured CA stays trusted for renewals as the previous CA.
  const { active: ca, previous } = await resolveActiveCa(settings, configuredCa, documents, {
    credential,
    logger,
  });
  const { store: auditStore, sink: audit } = await createAudit(settings, credential, logger, clock, database);
  recordKeyEvent(audit, {
    role: 'ca',
    action: created ? 'created' : 'loaded',
    certificateDer: ca.certificateDer,
    key: ca.signer.id,
  });
  const cas = liveCa(
    settings,
    { configured: configuredCa, active: ca, previous },
    { documents, clock, logger, credential, reloadMs: options.activeCaReloadMs ?? NEXT_CA_RELOAD_MS },
  );
  return { credential, store, documents, description, close, audit, auditStore, cas, ca };
}

/** The given credential, or managed identity / DefaultAzureCredential, created on first use. */
function azureCredential(
  settings: Settings,
  given: TokenCredential | undefined,
): () => Promise<TokenCredential> {
  let credential = given;
  return async () => {
    if (!credential) {
      const { createAzureCredential } = await import('../keys/credential.js');
      credential = createAzureCredential({
        managedIdentityClientId: settings.keyVault.managedIdentityClientId,
      });
    }
    return credential;
  };
}

/** Cosmos DB when configured; otherwise the embedded database in the data folder, or memory. */
async function createStore(
  settings: Settings,
  credential: () => Promise<TokenCredential>,
  logger: Logger,
): ReturnType<typeof import('../store/local.js').createLocalStores> {
  const { createLocalStores } = await import('../store/local.js');
  if (settings.cosmos.endpoint === undefined)
    return createLocalStores(settings.core, (message) => {
      logger.warn(`local database: ${message}`);
    });
  const { createCosmosStores } = await import('../store/cosmos-factory.js');
  const cred = settings.cosmos.key === undefined ? await credential() : undefined;
  return {
    ...createCosmosStores(settings, cred),
    description: settings.cosmos.endpoint,
    close: () => undefined,
  };
}
