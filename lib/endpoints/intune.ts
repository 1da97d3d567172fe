import { IntuneChallengeValidator } from '../challenge/intune.js';
import type { IntuneSettings } from '../config/intune.js';
import { DEFAULT_POLICY } from '../csr/policy.js';
import { AppError } from '../errors.js';
import type { IntuneClient } from '../intune/client.js';
import type { FailureOutbox } from '../intune/failure-outbox.js';
import { hresultFor } from '../intune/hresult.js';
import { confirmSuccessBeforeDelivery } from '../intune/notification-confirm.js';
import { announceDelivered, notifyFailure } from '../intune/notifications.js';
import type { Logger } from '../log.js';
import type { MessageQueue } from '../queue/types.js';
import type { ResponseCipher } from '../config/core.js';
import type { EnrollmentProfile, IssuanceHooks } from '../enroll/endpoint.js';
import type { ScepEndpoint } from '../scep/endpoint.js';
import type { CertificateStore } from '../store/types.js';

/** What an Intune endpoint's hooks need of the Intune settings. */
export type IntuneEndpointSettings = Pick<IntuneSettings, 'waitForSuccessNotificationResponse'>;

export interface IntuneDeps {
  readonly client: IntuneClient;
  readonly queue: MessageQueue;
  readonly poison: MessageQueue;
  readonly store: CertificateStore;
  readonly logger: Logger;
  readonly clock: () => Date;
  /** Failure notifications the queue did not take (drained by the re-drive timer). */
  readonly outbox?: FailureOutbox;
}

/**
 * An Intune endpoint — `scep/intune` from settings (also served at `certsrv/mscep/mscep.dll`,
 * the NDES path Intune profiles use), or a stored client-intune/device-intune endpoint with its
 * own tenant connection: Intune's dynamic challenge is validated by Intune itself (validateRequest) before
 * anything is signed; the certificate record starts with notification state `pending` and the
 * success notification goes through the queue, or, with
 * WaitForSuccessNotificationResponse, is sent before the certificate is returned (test matrix
 * row 24).
 */
export function intuneEndpoint(
  name: string,
  s: IntuneEndpointSettings,
  d: IntuneDeps,
  profile: EnrollmentProfile,
): ScepEndpoint {
  const validator = new IntuneChallengeValidator(d.client, d.logger);
  return {
    name,
    profile,
    // Intune never sends RenewalReq; a renewal is a fresh PKCSReq with a new challenge.
    authorizer: { challenge: (ctx) => validator.validate(ctx), refusalIsFinal: true },
    hooks: intuneHooks(name, s, d),
  };
}

/** The settings-defined `intune` endpoint (also served at `certsrv/mscep/mscep.dll`). */
export function builtInIntuneEndpoint(
  s: IntuneSettings,
  d: IntuneDeps,
  replyCipher: ResponseCipher,
): ScepEndpoint {
  return intuneEndpoint('intune', s, d, {
    issuance: s.profile,
    policy: DEFAULT_POLICY,
    renewal: { allowed: s.profile.allowRenewals, revokeSuperseded: s.profile.revokeSuperseded },
    replyCipher,
    storeCertificate: s.profile.enableCertificateStorage,
  });
}

/**
 * Intune's notifications: records start `undelivered`; once the reply exists the success
 * notification goes through the queue, or with WaitForSuccessNotificationResponse is sent
 * before the certificate is returned.
 */
function intuneHooks(name: string, s: IntuneEndpointSettings, d: IntuneDeps): IssuanceHooks {
  const enqueue = { queue: d.queue, log: d.logger, ...(d.outbox ? { outbox: d.outbox } : {}) };
  return {
    // Records start `undelivered`: Intune hears of a certificate only once a reply carrying
    // it has been produced (EnrollmentService.deliver).
    notification: 'undelivered',
    afterRecord: async (record) => {
      // Renewals signed by a certificate we issued were not validated by Intune: nothing to report.
      if (record.authorization !== 'intune') return;
      if (s.waitForSuccessNotificationResponse) {
        const r = await confirmSuccessBeforeDelivery(
          { client: d.client, store: d.store, now: d.clock, log: d.logger },
          record,
        );
        if (!r.deliver) {
          throw new AppError(
            'DEPENDENCY_UNAVAILABLE',
            `Intune did not accept the success notification (${r.reason})`,
            {
              detail: { reason: r.reason, description: r.detail },
            },
          );
        }
        return;
      }
      // Queued mode: announce it once, the first time it is delivered.
      await announceDelivered({ ...enqueue, store: d.store, now: d.clock }, record);
    },
    issueFailed: async ({ transactionId, csr }, reason, message) => {
      if (transactionId === undefined) return;
      await notifyFailure(enqueue, {
        endpoint: name,
        transactionId,
        certificateRequest: Buffer.from(csr.der).toString('base64'),
        hResult: hresultFor(new AppError('DEPENDENCY_UNAVAILABLE', message, { detail: { reason } })),
        description: message,
      });
    },
  };
}
