import { recordKeyEvent } from '../audit/keys.js';
import type { AuditLog } from '../audit/sink.js';
import { sha256Hex } from '../x509/cert-view.js';
import type { RevocationSettings } from '../config/revocation.js';
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
  readonly crl: CrlPublisher;
  readonly service: RevocationService;
  readonly epoch: EpochWatcher;
}

/** How often each instance reads the store's revocation epoch: revocations show within ~2 s. */
export const EPOCH_INTERVAL_MS = 2000;

/** OCSP, CRL and revoke/unrevoke over one store and one CA, sharing one epoch watcher. */
export function createRevocation(deps: {
  readonly store: CertificateStore;
  readonly ca: CaKeys;
  /** The CA before the last activation: OCSP keeps answering for the certificates it issued. */
  readonly previousCa?: CaKeys | undefined;
  readonly issuerName: string;
  readonly settings: RevocationSettings;
  readonly logger: Logger;
  /** Revocations, releases and OCSP responder certificates are audit events. */
  readonly audit: AuditLog;
  readonly clock: () => Date;
}): Revocation {
  const { store, ca, settings, logger, clock } = deps;
  const epoch = new EpochWatcher(() => store.revocationEpoch(), EPOCH_INTERVAL_MS);
  const ocspOf = (of: CaKeys): OcspResponder =>
    new OcspResponder({
      store,
      ca: of,
      responder: new ResponderCertificates(of, {
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
    });
  const current = ocspOf(ca);
  const ocsp = deps.previousCa ? new OcspByIssuer([current, ocspOf(deps.previousCa)]) : current;
  const crl = new CrlPublisher({
    store,
    ca,
    issuerName: deps.issuerName,
    epoch,
    logger,
    validityDays: settings.crlValidityDays,
    now: clock,
  });
  const service = new RevocationService({
    store,
    audit: deps.audit,
    changed: () => {
      epoch.changed();
    },
    now: clock,
  });
  return { ocsp, crl, service, epoch };
}
