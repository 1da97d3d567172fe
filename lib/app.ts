import 'reflect-metadata';
import type { TokenCredential } from '@azure/identity';
import type { CaApiDeps } from './admin/ca.js';
import type { ManageApi } from './admin/index.js';
import type { AuditAccess } from './audit/access.js';
import { createAudit } from './audit/factory.js';
import { recordKeyEvent } from './audit/keys.js';
import type { AuditLog, AuditSink } from './audit/sink.js';
import type { AuditStore } from './audit/store.js';
import { CertificateIssuer } from './ca/issue.js';
import { caNameOf, revocationUrls, trustedCas, urlIdOf, type KnownCas } from './ca/urls.js';
import { LiveCa, type CaSnapshot } from './ca/holder.js';
import { readActiveCa } from './ca/active.js';
import type { NextCa } from './ca/next.js';
import { createNextCa, NEXT_CA_RELOAD_MS, nextCaDefaults, resolveActiveCa } from './ca/next-factory.js';
import { loadSettings, type Env, type Settings } from './config/index.js';
import type { EnrollmentProfile } from './enroll/endpoint.js';
import { EnrollmentService } from './enroll/service.js';
import { RenewalRule } from './enroll/renewal-rule.js';
import { builtInIntuneEndpoint, type IntuneDeps } from './endpoints/intune.js';
import { builtInEndpoints } from './endpoints/built-in.js';
import { buildEndpoint } from './endpoints/kinds.js';
import { accountsOf, endpointsOf, type ManageDeps } from './endpoints/manage.js';
import {
  intuneNotifications,
  storedIntuneEndpoint,
  type IntuneNotifications,
  type StoredIntuneDeps,
} from './endpoints/intune-stored.js';
import { EndpointRegistry } from './endpoints/registry.js';
import { staticEndpoint } from './endpoints/static.js';
import { loadOrCreateLocalCa } from './keys/local-ca.js';
import type { CaKeys } from './keys/types.js';
import { jsonLogger, type Logger } from './log.js';
import { unavailableEndpoint, type ScepEndpoint } from './scep/endpoint.js';
import type { RestEnrollment } from './rest/enroll.js';
import { ClientCertificateRenewal } from './auth/client-cert.js';
import type { EndpointEstDeps } from './est/endpoint-enroll.js';
import { createRevocation, type Revocation } from './revocation/index.js';
import type { IntuneRevocationRun } from './revocation/intune-pull.js';
import type { RevocationService } from './revocation/revoke.js';
import { revokeSupersededOnDelivery } from './revocation/supersede.js';
import { PkiOperation } from './scep/pki-operation.js';
import type { RaCertificates } from './ra/certificates.js';
import { createRaCertificates, withResponders } from './ra/factory.js';
import { caResponder } from './ra/responder.js';
import { ConcurrencyLimit } from './scep/limit.js';
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
  /** The issuing CA as last read (`cas.get()` reads the activation record when it is due). */
  readonly ca: CaKeys;
  /**
   * The configured CA, the issuing CA and the one before it, picked up while running: an
   * activation takes effect on every instance within a minute (at once on the one that activates).
   */
  readonly cas: LiveCa;
  /** The issuing CA's issuer as last read. */
  readonly issuer: CertificateIssuer;
  readonly store: CertificateStore;
  /** Endpoints, accounts, organizations, administrators (the management plane's documents). */
  readonly documents: DocumentStore;
  /** `scep/{name}` → endpoint, cached ≤ 30 s. */
  readonly endpoints: EndpointRegistry;
  /** What the management use cases (lib/endpoints/manage.ts, accounts.ts) need. */
  readonly manage: ManageDeps;
  /** Per-endpoint RA certificates (RA mode). */
  readonly ra: RaCertificates;
  /** The next CA (GetNextCACert, rollover), created ahead of time by an administrator. */
  readonly nextCa: NextCa;
  readonly enrollment: EnrollmentService;
  readonly scep: ScepService;
  /** Present when AppConfig__IntuneValidation__Enabled. */
  readonly intune: IntuneDeps | undefined;
  /** The notification worker's view (every Intune endpoint); present when a queue is configured. */
  readonly intuneNotifications: IntuneNotifications | undefined;
  /** Present when AppConfig__DbCSRValidation__Enabled. */
  readonly rest: RestEnrollment | undefined;
  /** EST under an endpoint's label (`/.well-known/est/{label}/…`). */
  readonly estAtEndpoint: EndpointEstDeps;
  /** OCSP responder, CRL publisher, revoke/unrevoke. */
  readonly revocation: Revocation;
  /**
   * One timer tick of Intune revocation: a pull per tenant whose revocation is on (the
   * settings-defined connection: AppConfig__IntuneValidation__RevocationEnabled; a stored Intune
   * endpoint: its `intune.revocationEnabled`).
   */
  readonly intuneRevocation: () => Promise<IntuneRevocationRun>;
  /** Releases what the App holds open (the embedded database file). */
  close(): void;
  /** The management API (`api/manage/`): authentication, scope, use cases, change log. */
  readonly admin: ManageApi;
  /** The local admin key (`<data folder>/admin-key.txt`); undefined in Azure, where it is refused. */
  readonly adminKey: string | undefined;
}

export interface AppOptions {
  readonly logger?: Logger;
  readonly clock?: () => Date;
  /** Azure credential (Key Vault, Cosmos DB); default: managed identity / DefaultAzureCredential. */
  readonly credential?: TokenCredential;
  /** The management plane's documents; default: memory (tests share one between two apps). */
  readonly documents?: DocumentStore;
  /** How long a resolved endpoint is reused (default: AppConfig__EndpointCacheSeconds, 30 s). */
  readonly endpointCacheTtlMs?: number;
  /** Who may read the audit trail; default: the management API's authentication. */
  readonly auditAccess?: AuditAccess;
  /** How often the activation record is read again (default 60 s, as the next CA). */
  readonly activeCaReloadMs?: number;
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

  const [{ ca: configuredCa, created }, { store, documents: storedDocuments, description, close, database }] =
    await Promise.all([
      loadCaKeys(settings, azureCredential, logger),
      createStore(settings, azureCredential),
    ]);
  const documents = options.documents ?? storedDocuments;
  // After an activation (POST api/manage/ca-certificates/next/activate) the next CA issues from
  // the next start on; the configured CA stays trusted for renewals as the previous CA.
  const { active: ca, previous: previousCa } = await resolveActiveCa(settings, configuredCa, documents, {
    credential: azureCredential,
    logger,
  });
  const { store: auditStore, sink: audit } = await createAudit(
    settings,
    azureCredential,
    logger,
    clock,
    database,
  );
  recordKeyEvent(audit, {
    role: 'ca',
    action: created ? 'created' : 'loaded',
    certificateDer: ca.certificateDer,
    key: ca.signer.id,
  });
  const cas = liveCa(
    settings,
    { configured: configuredCa, active: ca, previous: previousCa },
    {
      documents,
      clock,
      logger,
      credential: azureCredential,
      reloadMs: options.activeCaReloadMs ?? NEXT_CA_RELOAD_MS,
    },
  );
  const issuer = cas.current.issuer;
  const revocation = createRevocation({
    store,
    cas,
    settings: settings.revocation,
    logger,
    audit,
    clock,
  });
  let rest: RestEnrollment | undefined;
  // A renewal is governed by the profile of the endpoint that issued the certificate it renews.
  const endpointProfile = async (name: string): Promise<EnrollmentProfile | undefined> => {
    if (name === 'api') return rest?.profile;
    const e = await registry.resolve(name);
    return e && e.unavailable === undefined ? e.profile : undefined;
  };
  const enrollment = new EnrollmentService(
    cas,
    store,
    audit,
    logger,
    clock,
    revokeSupersededOnDelivery({
      revocation: revocation.service,
      renewalPolicyOf: async (name) => (await endpointProfile(name))?.renewal,
      logger,
    }),
  );

  const endpoints = new Map<string, ScepEndpoint>();
  const fixed = staticEndpoint(core.static, core.responseCipher);
  if (fixed) endpoints.set(fixed.name, { ...fixed, raEnabled: core.ra.staticEnabled });
  const { intune, stored: storedIntune } = await createIntune(settings, {
    store,
    documents,
    logger,
    clock,
    credential: azureCredential,
  });
  if (settings.intune.enabled && settings.intune.unavailable !== undefined) {
    endpoints.set(
      'intune',
      unavailableEndpoint(
        'intune',
        settings.intune.unavailable,
        settings.intune.profile,
        core.responseCipher,
      ),
    );
  } else if (intune) {
    const e = builtInIntuneEndpoint(settings.intune, intune, core.responseCipher);
    endpoints.set(e.name, { ...e, raEnabled: core.ra.intuneEnabled });
  }
  const registry = new EndpointRegistry({
    builtIns: endpoints,
    endpoints: endpointsOf(documents),
    build: (e) =>
      buildEndpoint(
        {
          accounts: accountsOf(documents),
          clock,
          intune: (stored, profile) => storedIntuneEndpoint(storedIntune, stored, profile),
        },
        e,
      ),
    log: logger,
    ttlMs: options.endpointCacheTtlMs ?? core.endpointCacheSeconds * 1000,
  });
  const manage: ManageDeps = {
    docs: documents,
    clock,
    maxValidityDays: core.validityPeriodDays,
    builtIns: builtInEndpoints(endpoints, clock()),
  };
  const intuneRevocation = intuneRevocationPull(settings, {
    builtIn: intune,
    stored: storedIntune,
    revocation: revocation.service,
    // Requests for certificates of the issuing CA and of the one before an activation.
    caNames: async () => trustedCas(await cas.get()).map(caNameOf),
    logger,
    audit,
  });
  // The one renewal rule for SCEP and REST: a renewal gets its original endpoint's current
  // profile; an endpoint that is gone, disabled or unusable renews nothing (profile_unavailable).
  const trusted = (s: CaSnapshot): Uint8Array[] => trustedCas(s).map((c) => c.certificateDer);
  const renewal = new RenewalRule({
    caCertificates: trusted(cas.current),
    store,
    profileOf: async (name) => (await endpointProfile(name))?.issuance,
    now: clock,
  });
  cas.onSwitch((s) => {
    renewal.trust(trusted(s));
  });
  const pki = new PkiOperation({
    caResponder: () => cas.current.responder,
    store,
    enrollment,
    renewal,
    // CertPoll/GetCert hand a stored certificate out again: its own endpoint's delivery hook.
    deliver: async (record) => (await registry.resolve(record.endpoint))?.hooks.afterRecord(record, true),
    audit,
    clock,
  });
  const ra = await createRaCertificates(settings, {
    documents,
    cas,
    clock,
    logger,
    audit,
    credential: azureCredential,
  });
  const nextCa = await createNextCa(settings, {
    credential: azureCredential,
    clock,
    logger,
    activeDer: () => cas.current.active.certificateDer,
  });
  const scep = new ScepService(
    withResponders(registry, ra, cas),
    pki,
    cas,
    new ConcurrencyLimit(core.concurrentScepRequestLimit),
    core.requestBudgetMs,
    audit,
    { nextCa, clock },
  );
  if (settings.rest.enabled) {
    const { createRestAuth } = await import('./rest/authorize.js');
    const { restEnrollment } = await import('./rest/enroll.js');
    const auth = createRestAuth(settings.rest, {
      rule: renewal,
      realm: core.baseUrl ?? 'azure-scep-ca',
      now: clock,
    });
    rest = restEnrollment(settings.rest, auth, core.validityPeriodDays);
  }
  const { admin, adminKey } = await createManagement(settings, manage, {
    store,
    endpointCache: registry,
    audit,
    realm: core.baseUrl ?? 'azure-scep-ca',
    ra,
    ca: { cas, next: nextCa, documents, defaults: nextCaDefaults(settings) },
  });
  for (const e of endpoints.values()) {
    if (e.unavailable !== undefined)
      logger.error('SCEP endpoint disabled: its configuration cannot be used; it answers 503', {
        endpoint: e.name,
        problem: e.unavailable,
      });
  }
  logger.info('azure-scep-ca started', {
    ca: issuer.caName,
    key: ca.signer.id,
    store: description,
    endpoints: [...endpoints.keys()],
    rest: rest !== undefined,
  });
  return {
    settings,
    logger,
    audit,
    auditStore,
    auditAccess: options.auditAccess ?? admin.auth,
    get ca() {
      return cas.current.active;
    },
    cas,
    get issuer() {
      return cas.current.issuer;
    },
    store,
    documents,
    endpoints: registry,
    manage,
    ra,
    nextCa,
    enrollment,
    scep,
    intune,
    intuneNotifications: intuneNotifications(storedIntune),
    rest,
    estAtEndpoint: {
      enrollment,
      // The trusted client-certificate header, whenever one is configured.
      clientCertificates:
        settings.rest.clientCertificateHeader === undefined
          ? undefined
          : new ClientCertificateRenewal({
              header: settings.rest.clientCertificateHeader,
              rule: renewal,
              allowedAuthorizations: [],
            }),
      realm: core.baseUrl ?? 'azure-scep-ca',
      now: clock,
    },
    revocation,
    intuneRevocation,
    admin,
    adminKey,
    close: () => {
      revocation.close();
      close();
    },
  };
}

/**
 * The CAs, picked up while running (lib/ca/holder.ts): each snapshot is built on one issuing
 * CA, with its issuer (the CDP and AIA URLs of that CA) and its CA-mode responder.
 */
function liveCa(
  settings: Settings,
  start: KnownCas,
  o: {
    documents: DocumentStore;
    clock: () => Date;
    logger: Logger;
    credential: () => Promise<TokenCredential>;
    reloadMs: number;
  },
): LiveCa {
  const core = settings.core;
  const snapshotOf = (active: CaKeys, previous: CaKeys | undefined): CaSnapshot => {
    const known = { configured: start.configured, active, previous };
    const urls =
      core.baseUrl === undefined ? undefined : revocationUrls(core.baseUrl, urlIdOf(known, active));
    return {
      ...known,
      issuer: new CertificateIssuer(active, {
        clockSkewMinutes: core.clockSkewMinutes,
        revocationUrls: urls,
      }),
      responder: caResponder(active, previous),
    };
  };
  return new LiveCa(snapshotOf(start.active, start.previous), {
    reloadMs: o.reloadMs,
    clock: o.clock,
    recorded: async () => (await readActiveCa(o.documents))?.thumbprintSha256,
    resolve: () =>
      resolveActiveCa(settings, start.configured, o.documents, {
        credential: o.credential,
        logger: o.logger,
      }),
    snapshot: snapshotOf,
    log: o.logger,
  });
}

/**
 * Intune: the settings-defined connection (when AppConfig__IntuneValidation__Enabled and its
 * secret resolved), the notification queues (created on first use), and the connections of
 * stored Intune endpoints (secrets read from Key Vault with the app's identity).
 */
async function createIntune(
  settings: Settings,
  o: {
    store: CertificateStore;
    documents: DocumentStore;
    logger: Logger;
    clock: () => Date;
    credential: () => Promise<TokenCredential>;
  },
): Promise<{ intune: IntuneDeps | undefined; stored: StoredIntuneDeps }> {
  const s = settings.intune;
  const [
    { createIntuneClient, createNotificationQueues },
    { IntuneConnections },
    { lazyQueue },
    { FailureOutbox },
  ] = await Promise.all([
    import('./intune/factory.js'),
    import('./intune/connections.js'),
    import('./queue/lazy.js'),
    import('./intune/failure-outbox.js'),
  ]);
  let queues: StoredIntuneDeps['queues'];
  if (s.queue.connection) {
    let both: ReturnType<typeof createNotificationQueues> | undefined;
    const once = (): ReturnType<typeof createNotificationQueues> =>
      (both ??= createNotificationQueues(s).catch((e: unknown) => {
        both = undefined;
        throw e;
      }));
    queues = {
      queue: lazyQueue(s.queue.name, async () => (await once()).queue),
      poison: lazyQueue(s.queue.poisonName, async () => (await once()).poison),
    };
  }
  const outbox = new FailureOutbox(o.documents.collection('state'), o.clock);
  const common = { store: o.store, logger: o.logger, clock: o.clock, outbox };
  const intune: IntuneDeps | undefined =
    s.enabled && s.unavailable === undefined && queues
      ? { client: createIntuneClient(s), ...queues, ...common }
      : undefined;
  const { keyVaultSecretReader } = await import('./keys/secrets.js');
  return {
    intune,
    stored: {
      settings: s,
      builtIn: intune,
      queues,
      connections: new IntuneConnections(s, keyVaultSecretReader(o.credential)),
      endpoints: endpointsOf(o.documents),
      ...common,
    },
  };
}

/**
 * Intune revocation: every tick lists the tenants to pull (the settings-defined connection and
 * stored Intune endpoints, read afresh so a changed endpoint counts at the next tick) and pulls
 * each with its own connection's client. The modules load at the first tick.
 */
function intuneRevocationPull(
  settings: Settings,
  o: {
    builtIn: IntuneDeps | undefined;
    stored: StoredIntuneDeps;
    revocation: RevocationService;
    /** The issuer names of the CAs in use, read at each tick (an activation changes them). */
    caNames: () => Promise<readonly string[]>;
    logger: Logger;
    audit: AuditLog;
  },
): App['intuneRevocation'] {
  const tenantId = settings.intune.auth?.tenantId;
  const builtIn =
    o.builtIn && tenantId !== undefined
      ? { tenantId, client: o.builtIn.client, revocationEnabled: settings.revocation.intuneEnabled }
      : undefined;
  return async () => {
    const [{ IntuneRevocationClient }, { pullAllTenants }, { tenantsToPull }] = await Promise.all([
      import('./revocation/intune-client.js'),
      import('./revocation/intune-pull.js'),
      import('./revocation/intune-tenants.js'),
    ]);
    return pullAllTenants({
      tenants: () =>
        tenantsToPull({
          builtIn,
          endpoints: o.stored.endpoints,
          clientFor: (c) => o.stored.connections.clientFor(c),
        }),
      revocationClient: (client) =>
        new IntuneRevocationClient(client, {
          providerNameAndVersion: settings.intune.providerNameAndVersion,
          timeoutMs: settings.intune.timeoutMs,
        }),
      revocation: o.revocation,
      caNames: await o.caNames(),
      batchSize: settings.revocation.intuneBatchSize,
      logger: o.logger,
      audit: o.audit,
    });
  };
}

/**
 * The management API: the local admin key (created in the data folder on first start, never in
 * Azure) and, when an app registration is configured, Entra ID tokens with the CA.* app roles.
 */
export async function createManagement(
  settings: Settings,
  manage: ManageDeps,
  o: {
    store: CertificateStore;
    endpointCache: { forget(name: string): void };
    /** Where every management change is recorded. */
    audit: AuditLog;
    realm: string;
    /** Absent in tools that manage without serving SCEP (the admin CLI). */
    ra?: RaCertificates;
    ca?: Omit<CaApiDeps, 'clock' | 'audit'>;
  },
): Promise<{ admin: ManageApi; adminKey: string | undefined }> {
  const [{ createManageApi }, { loadOrCreateAdminKey }] = await Promise.all([
    import('./admin/index.js'),
    import('./admin/admin-key.js'),
  ]);
  const m = settings.manage;
  const adminKey = m.inAzure ? undefined : await loadOrCreateAdminKey(settings.core.dataDir);
  let tokens: import('./auth/entra.js').EntraTokenValidator | undefined;
  if (m.entra) {
    const { EntraTokenValidator } = await import('./auth/entra.js');
    const { ROLES } = await import('./admin/roles.js');
    tokens = new EntraTokenValidator({ ...m.entra, requiredRole: ROLES, now: manage.clock });
  }
  const admin = createManageApi({
    endpoints: manage,
    endpointCache: o.endpointCache,
    certificates: o.store,
    audit: o.audit,
    adminKey,
    tokens,
    realm: o.realm,
    ...(o.ra ? { ra: o.ra } : {}),
    ...(o.ca ? { ca: o.ca } : {}),
  });
  return { admin, adminKey };
}

async function loadCaKeys(
  settings: Settings,
  credential: () => Promise<TokenCredential>,
  logger: Logger,
): Promise<{ ca: CaKeys; created: boolean }> {
  const kv = settings.keyVault;
  if (kv.url !== undefined) {
    const { loadKeyVaultCa } = await import('./keys/keyvault-ca.js');
    return { ca: await loadKeyVaultCa(kv, await credential(), undefined, { log: logger }), created: false };
  }
  const core = settings.core;
  const { created, ...ca } = await loadOrCreateLocalCa({ dataDir: core.dataDir, ...core.localCa });
  return { ca, created };
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
