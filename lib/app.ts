import 'reflect-metadata';
import type { TokenCredential } from '@azure/identity';
import type { ManageApi } from './admin/index.js';
import type { AuditAccess } from './audit/access.js';
import type { AuditSink } from './audit/sink.js';
import type { AuditStore } from './audit/store.js';
import type { CertificateIssuer } from './ca/issue.js';
import type { LiveCa } from './ca/holder.js';
import type { NextCa } from './ca/next.js';
import { nextCaDefaults } from './ca/next-factory.js';
import { caNameOf, trustedCas } from './ca/urls.js';
import { loadSettings, type Env, type Settings } from './config/index.js';
import type { EnrollmentService } from './enroll/service.js';
import type { IntuneDeps } from './endpoints/intune.js';
import { intuneNotifications, type IntuneNotifications } from './endpoints/intune-stored.js';
import type { ManageDeps } from './endpoints/manage.js';
import type { EndpointRegistry } from './endpoints/registry.js';
import type { EndpointEstDeps } from './est/endpoint-enroll.js';
import type { CaKeys } from './keys/types.js';
import { jsonLogger, type Logger } from './log.js';
import type { RaCertificates } from './ra/certificates.js';
import type { RestEnrollment } from './rest/enroll.js';
import { createRevocation, type Revocation } from './revocation/index.js';
import type { IntuneRevocationRun } from './revocation/intune-pull.js';
import type { ScepService } from './scep/service.js';
import type { DocumentStore } from './store/documents.js';
import type { CertificateStore } from './store/types.js';
import { createEndpoints, type Endpoints } from './app/endpoints.js';
import { createEnrollment, endpointProfiles } from './app/enrollment.js';
import { createFoundation, type Foundation } from './app/foundation.js';
import { intuneRevocationPull } from './app/intune.js';
import { createManagement } from './app/management.js';
import { createRest, estAtEndpoint, realmOf } from './app/rest.js';
import { createScep } from './app/scep.js';

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
 * which keeps a cold start of the embedded default short. The parts are assembled in lib/app/.
 */
export async function createApp(env: Env = process.env, options: AppOptions = {}): Promise<App> {
  const settings = loadSettings(env);
  const logger = options.logger ?? jsonLogger();
  const clock = options.clock ?? (() => new Date());
  const base = await createFoundation(settings, options, { logger, clock });
  const s = await createServices(settings, base, {
    logger,
    clock,
    endpointCacheTtlMs: options.endpointCacheTtlMs ?? settings.core.endpointCacheSeconds * 1000,
  });
  const { cas } = base;
  const { admin, adminKey } = await createManagement(settings, s.manage, {
    store: base.store,
    endpointCache: s.registry,
    audit: base.audit,
    realm: realmOf(settings),
    ra: s.ra,
    ca: { cas, next: s.nextCa, documents: base.documents, defaults: nextCaDefaults(settings) },
  });
  logStarted(logger, base, s);
  return {
    settings,
    logger,
    audit: base.audit,
    auditStore: base.auditStore,
    auditAccess: options.auditAccess ?? admin.auth,
    get ca() {
      return cas.current.active;
    },
    cas,
    get issuer() {
      return cas.current.issuer;
    },
    store: base.store,
    documents: base.documents,
    endpoints: s.registry,
    manage: s.manage,
    ra: s.ra,
    nextCa: s.nextCa,
    enrollment: s.enrollment,
    scep: s.scep,
    intune: s.intune,
    intuneNotifications: intuneNotifications(s.storedIntune),
    rest: s.rest,
    estAtEndpoint: estAtEndpoint(settings, s.enrollment, s.renewal, clock),
    revocation: s.revocation,
    intuneRevocation: s.intuneRevocation,
    admin,
    adminKey,
    close: () => {
      s.revocation.close();
      base.close();
    },
  };
}

type Services = Endpoints &
  ReturnType<typeof createEnrollment> &
  Awaited<ReturnType<typeof createScep>> &
  Pick<App, 'revocation' | 'intuneRevocation' | 'rest'>;

/**
 * Revocation, enrollment, the SCEP endpoints, Intune revocation, SCEP and REST, in the order
 * they depend on each other; a renewal's profile is looked up in endpoints and in a REST
 * enrollment built after it (at renewal time, never while starting).
 */
async function createServices(
  settings: Settings,
  base: Foundation,
  o: { logger: Logger; clock: () => Date; endpointCacheTtlMs: number },
): Promise<Services> {
  const { store, documents, audit, cas, credential } = base;
  const { logger, clock } = o;
  const revocation = createRevocation({ store, cas, settings: settings.revocation, logger, audit, clock });
  const profileOf = endpointProfiles(
    () => endpoints.registry,
    () => rest,
  );
  const { enrollment, renewal } = createEnrollment({
    cas,
    store,
    audit,
    logger,
    clock,
    revocation: revocation.service,
    profileOf,
  });
  const endpoints = await createEndpoints(settings, {
    store,
    documents,
    logger,
    clock,
    credential,
    ttlMs: o.endpointCacheTtlMs,
  });
  const intuneRevocation = intuneRevocationPull(settings, {
    builtIn: endpoints.intune,
    stored: endpoints.storedIntune,
    revocation: revocation.service,
    // Requests for certificates of the issuing CA and of the one before an activation.
    caNames: async () => trustedCas(await cas.get()).map(caNameOf),
    logger,
    audit,
  });
  const scep = await createScep(settings, {
    cas,
    store,
    documents,
    enrollment,
    renewal,
    registry: endpoints.registry,
    audit,
    logger,
    clock,
    credential,
  });
  const rest = await createRest(settings, renewal, clock);
  return { ...endpoints, revocation, enrollment, renewal, intuneRevocation, ...scep, rest };
}

function logStarted(logger: Logger, base: Foundation, s: Services): void {
  for (const e of s.builtIns.values()) {
    if (e.unavailable !== undefined)
      logger.error('SCEP endpoint disabled: its configuration cannot be used; it answers 503', {
        endpoint: e.name,
        problem: e.unavailable,
      });
  }
  logger.info('azure-scep-ca started', {
    ca: base.cas.current.issuer.caName,
    key: base.ca.signer.id,
    store: base.description,
    endpoints: [...s.builtIns.keys()],
    rest: s.rest !== undefined,
  });
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
