import 'reflect-metadata';
import { loggerAudit, type AuditLog } from './audit.js';
import { CertificateIssuer } from './ca/issue.js';
import { StaticChallengeValidator } from './challenge/static.js';
import { loadSettings, type Env, type Settings } from './config/index.js';
import { DEFAULT_POLICY } from './csr/policy.js';
import { EnrollmentService } from './enroll/service.js';
import { loadOrCreateLocalCa } from './keys/local-ca.js';
import type { CaKeys } from './keys/types.js';
import { jsonLogger, type Logger } from './log.js';
import type { ScepEndpoint } from './scep/endpoint.js';
import { PkiOperation } from './scep/pki-operation.js';
import { ScepService } from './scep/service.js';
import { MemoryCertificateStore } from './store/memory.js';
import type { CertificateStore } from './store/types.js';

/** Everything a function needs, built once per worker from validated settings. */
export interface App {
  readonly settings: Settings;
  readonly logger: Logger;
  readonly audit: AuditLog;
  readonly ca: CaKeys;
  readonly issuer: CertificateIssuer;
  readonly store: CertificateStore;
  readonly enrollment: EnrollmentService;
  readonly scep: ScepService;
}

export interface AppOptions {
  readonly logger?: Logger;
  readonly clock?: () => Date;
}

/**
 * The composition root: the only place that chooses implementations (local key or Key Vault,
 * memory store or Cosmos DB, which SCEP endpoints exist). Nothing below lib/ reads settings
 * or the environment on its own.
 */
export async function createApp(env: Env = process.env, options: AppOptions = {}): Promise<App> {
  const settings = loadSettings(env);
  const logger = options.logger ?? jsonLogger();
  const clock = options.clock ?? (() => new Date());
  const audit = loggerAudit(logger);
  const core = settings.core;

  const ca = await loadOrCreateLocalCa({ dataDir: core.dataDir, ...core.localCa });
  const issuer = new CertificateIssuer(ca, { clockSkewMinutes: core.clockSkewMinutes });
  const store: CertificateStore = new MemoryCertificateStore();
  const enrollment = new EnrollmentService(issuer, store, audit, logger, clock);

  const endpoints = new Map<string, ScepEndpoint>();
  if (core.static.enabled && core.static.requestPassword !== undefined) {
    endpoints.set('static', {
      name: 'static',
      challenge: new StaticChallengeValidator(core.static.requestPassword),
      profile: { validityDays: core.static.validityDays, keyUsage: core.static.keyUsage, ekus: core.static.ekus },
      policy: DEFAULT_POLICY,
      allowRenewals: core.static.allowRenewals,
    });
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
  const scep = new ScepService(endpoints, pki, ca);
  return { settings, logger, audit, ca, issuer, store, enrollment, scep };
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
