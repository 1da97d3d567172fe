import { recordKeyEvent } from '../audit/keys.js';
import type { AuditLog } from '../audit/sink.js';
import { sha256Hex } from '../x509/cert-view.js';
import type { RevocationSettings } from '../config/revocation.js';
import { caNameOf, caNamed, trustedCas, type KnownCas } from '../ca/urls.js';
import type { CaKeys } from '../keys/types.js';
import type { Logger } from '../log.js';
import type { CertificateStore } from '../store/types.js';
import { CrlPublisher } from './crl-publisher.js';
import { EpochWatcher } from './epoch.js';
import { OcspByIssuer, OcspResponder, type OcspAnswer } from './ocsp.js';
import { ResponderCertificates } from './responder.js';
import { RevocationService } from './revoke.js';

export interface Revocation {
  readonly ocsp: { respond(request: Uint8Array): Promise<OcspAnswer> };
  /**
   * A CA's CRL publisher: no id → the configured CA's (`/crl`), an id → that known CA's
   * (`/crl/<CA id>`); undefined for an id no CA has.
   */
  crl(caId?: string): Promise<CrlPublisher | undefined>;
  readonly service: RevocationService;
  readonly epoch: EpochWatcher;
  /** Makes the issuing CA's OCSP responder certificate now rather than at the first request. */
  prepare(): Promise<void>;
  /** Stop the CRL publishers' background builds. */
  close(): void;
}

/** The CAs as an instance knows them now (they change when an activation is picked up). */
export interface CaSource {
  get(): Promise<KnownCas>;
}

/** How often each instance reads the store's revocation epoch: revocations show within ~2 s. */
export const EPOCH_INTERVAL_MS = 2000;

/** One CA's revocation services: its delegated OCSP responder and its own CRL. */
interface PerCa {
  readonly ocsp: OcspResponder;
  readonly crl: CrlPublisher;
}

export interface RevocationDeps {
  readonly store: CertificateStore;
  readonly cas: CaSource;
  readonly settings: RevocationSettings;
  readonly logger: Logger;
  /** Revocations, releases and OCSP responder certificates are audit events. */
  readonly audit: AuditLog;
  readonly clock: () => Date;
}

/**
 * OCSP, CRL and revoke/unrevoke over one store, sharing one epoch watcher. Each CA (the one
 * that issues and the one before an activation) has its own OCSP responder certificate and its
 * own CRL (signed by its key, its own CRL numbers, listing what it issued), made when first
 * asked for and kept.
 */
export function createRevocation(deps: RevocationDeps): Revocation {
  const { store, clock } = deps;
  const epoch = new EpochWatcher(() => store.revocationEpoch(), EPOCH_INTERVAL_MS);
  const perCa = new Map<CaKeys, PerCa>();
  const of = (ca: CaKeys): PerCa => {
    let p = perCa.get(ca);
    if (!p) {
      p = perCaServices(ca, epoch, deps);
      perCa.set(ca, p);
    }
    return p;
  };
  const ocsp = {
    async respond(request: Uint8Array): Promise<OcspAnswer> {
      const [active, ...before] = trustedCas(await deps.cas.get());
      const issuing = of(active).ocsp;
      if (before.length === 0) return issuing.respond(request);
      return new OcspByIssuer([issuing, ...before.map((ca) => of(ca).ocsp)]).respond(request);
    },
  };
  const service = new RevocationService({
    store,
    audit: deps.audit,
    changed: () => {
      epoch.changed();
    },
    now: clock,
  });
  return {
    ocsp,
    crl: async (caId) => {
      const ca = caNamed(await deps.cas.get(), caId);
      return ca && of(ca).crl;
    },
    service,
    epoch,
    prepare: async () => {
      await of((await deps.cas.get()).active).ocsp.prepare();
    },
    close: () => {
      for (const p of perCa.values()) p.crl.close();
    },
  };
}

/** A CA's OCSP responder (with its own responder certificate, an audit event when made) and CRL. */
function perCaServices(ca: CaKeys, epoch: EpochWatcher, deps: RevocationDeps): PerCa {
  const { store, settings, logger, clock } = deps;
  return {
    ocsp: new OcspResponder({
      store,
      ca,
      responder: new ResponderCertificates(ca, {
        validityHours: settings.responderValidityHours,
        now: clock,
        onIssued: (certificateDer, previous) => {
          recordKeyEvent(deps.audit, {
            role: 'ocsp-responder',
            action: previous ? 'renewed' : 'issued',
            certificateDer,
            key: 'memory (this instance)',
            previous: previous && sha256Hex(previous),
          });
        },
      }),
      epoch,
      logger,
      now: clock,
      maxAgeSeconds: settings.ocspMaxAgeSeconds,
    }),
    crl: new CrlPublisher({
      store,
      ca,
      issuerName: caNameOf(ca),
      epoch,
      logger,
      validityDays: settings.crlValidityDays,
      now: clock,
    }),
  };
}
