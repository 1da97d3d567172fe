import 'reflect-metadata';
import type { TokenCredential } from '@azure/identity';
import { closedAccess, type AuditAccess } from './audit/access.js';
import { createAudit } from './audit/factory.js';
import type { AuditSink } from './audit/sink.js';
import type { AuditStore } from './audit/store.js';
import { CertificateIssuer } from './ca/issue.js';
import { loadSettings, type Env, type Settings } from './config/index.js';
import { EnrollmentService } from './enroll/service.js';
import { intuneEndpoint, type IntuneDeps } from './endpoints/intune.js';
import { staticEndpoint } from './endpoints/static.js';
import { loadOrCreateLocalCa } from './keys/local-ca.js';
import type { CaKeys } from './keys/types.js';
import { jsonLogger, type Logger } from './log.js';
import type { ScepEndpoint } from './scep/endpoint.js';
import type { RestEnrollment } from './rest/enroll.js';
import { PkiOperation } from './scep/pki-operation.js';
import { ScepService } from './scep/service.js';
import type { DocumentStore } from './store/documents.js';
import type { Sqlite } from './store/sqlite.js';
import type { CertificateStore } from './store/types.js';

/** Everything a function needs, built once per worker from validated settings. */
export interface App {
  readonly settings: Settings;
  readonly logger: Logger;
  /** Where decisions are recorded (log line at once, store in the background). */
  readonly audit: AuditSink;
  readonly auditStore: AuditStore;
  /** Authentication of audit readers (the management API's callers). */
  readonly auditAccess: AuditAccess;
  readonly ca: CaKeys;
  readonly issuer: CertificateIssuer;
  readonly store: CertificateStore;
  /** The management plane's collections (endpoints, accounts, organizations, …). */
  readonly documents: DocumentStore;
  readonly enrollment: EnrollmentService;
  readonly scep: ScepService;
  /** Present when AppConfig__IntuneValidation__Enabled. */
  readonly intune: IntuneDeps | undefined;
  /** Present when AppConfig__DbCSRValidation__Enabled. */
  readonly rest: RestEnrollment | undefined;
  /** Releases what the App holds open (the embedded database file). */
  close(): void;
}

export interface AppOptions {
  readonly logger?: Logger;
  readonly clock?: () => Date;
  /** Azure credential (Key Vault, Cosmos DB); default: managed identity / DefaultAzureCredential. */
  readonly credential?: TokenCredential;
  /** Authentication of management callers; until the management API provides it, none. */
  readonly auditAccess?: AuditAccess;
}

/**
 * The composition root: the only place that chooses implementations (local key or Key Vault,
 * memory store or Cosmos DB, which SCEP endpoints exist). Nothing below lib/ reads settings
 * or the environment on its own. Azure SDKs are loaded only when their feature is configured,
 * which keeps a cold start of the embedded default short.
 */
export async function createApp(env: Env = process.env, options: AppOptions = {}): Promise<App> {
  const settings = loadSettings(env);
  const logger = options.logger ?? jsonLogger();
  const clock = options.clock ?? (() => new Date());
  const core = settings.core;
  let credential = options.credential;
  const azureCredential = async (): Promise<TokenCredential> => {
    if (!credential) {
      const { createAzureCredential } = await import('./keys/credential.js');
      credential = createAzureCredential({
        managedIdentityClientId: settings.keyVault.managedIdentityClientId,
      });
    }
    return credential;
  };

  const [ca, { store, documents, description, close, database }] = await Promise.all([
    loadCaKeys(settings, azureCredential, logger),
    createStore(settings, azureCredential),
  ]);
  const { store: auditStore, sink: audit } = await createAudit(
    settings,
    azureCredential,
    logger,
    clock,
    database,
  );
  const issuer = new CertificateIssuer(ca, { clockSkewMinutes: core.clockSkewMinutes });
  const enrollment = new EnrollmentService(issuer, store, audit, logger, clock);

  const endpoints = new Map<string, ScepEndpoint>();
  const fixed = staticEndpoint(core.static);
  if (fixed) endpoints.set(fixed.name, fixed);
  let intune: IntuneDeps | undefined;
  if (settings.intune.enabled) {
    const { createIntuneClient, createNotificationQueues } = await import('./intune/factory.js');
    const queues = await createNotificationQueues(settings.intune);
    intune = { client: createIntuneClient(settings.intune), ...queues, store, logger, clock };
    const e = intuneEndpoint(settings.intune, intune);
    endpoints.set(e.name, e);
  }
  const pki = new PkiOperation({
    issuer,
    signer: ca.signer,
    decrypter: ca.decrypter,
    store,
    enrollment,
    responseCipher: core.responseCipher,
    audit,
    clock,
  });
  const scep = new ScepService(endpoints, pki, ca, audit);
  let rest: RestEnrollment | undefined;
  if (settings.rest.enabled) {
    const { createRestAuth } = await import('./rest/authorize.js');
    const { restEnrollment } = await import('./rest/enroll.js');
    const auth = createRestAuth(settings.rest, {
      caCertificates: [ca.certificateDer],
      store,
      realm: core.baseUrl ?? 'azure-scep-ca',
      now: clock,
    });
    rest = restEnrollment(settings.rest, auth, core.validityPeriodDays);
  }
  logger.info('azure-scep-ca started', {
    ca: issuer.caName,
    key: ca.signer.id,
    store: description,
    endpoints: [...endpoints.keys()],
    rest: rest !== undefined,
  });
  const auditAccess = options.auditAccess ?? closedAccess;
  return {
    settings,
    logger,
    audit,
    auditStore,
    auditAccess,
    ca,
    issuer,
    store,
    documents,
    enrollment,
    scep,
    intune,
    rest,
    close,
  };
}

async function loadCaKeys(
  settings: Settings,
  credential: () => Promise<TokenCredential>,
  logger: Logger,
): Promise<CaKeys> {
  const kv = settings.keyVault;
  if (kv.url !== undefined) {
    const { loadKeyVaultCa } = await import('./keys/keyvault-ca.js');
    return loadKeyVaultCa(kv, await credential(), undefined, { log: logger });
  }
  const core = settings.core;
  return loadOrCreateLocalCa({ dataDir: core.dataDir, ...core.localCa });
}

/** Cosmos DB when configured; otherwise the embedded database in the data folder, or memory. */
async function createStore(
  settings: Settings,
  credential: () => Promise<TokenCredential>,
): Promise<{
  store: CertificateStore;
  documents: DocumentStore;
  description: string;
  close: () => void;
  database?: Sqlite;
}> {
  const { createLocalStores } = await import('./store/local.js');
  if (settings.cosmos.endpoint === undefined) return createLocalStores(settings.core);
  const { createCosmosStores } = await import('./store/cosmos-factory.js');
  const cred = settings.cosmos.key === undefined ? await credential() : undefined;
  return {
    ...createCosmosStores(settings, cred),
    description: settings.cosmos.endpoint,
    close: () => undefined,
  };
}

let cached: Promise<App> | undefined;

/** The worker's App, created on first use and reused; a failed start is retried next time. */
export function getApp(): Promise<App> {
  cached ??= createApp().catch((e: unknown) => {
    cached = undefined;
    throw e;
  });
  return cached;
}

/** For the local host and tests: replace the worker's App. */
export function setApp(app: Promise<App> | undefined): void {
  cached = app;
}
