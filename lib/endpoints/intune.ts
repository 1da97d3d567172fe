import { IntuneChallengeValidator } from '../challenge/intune.js';
import type { IntuneSettings } from '../config/intune.js';
import { DEFAULT_POLICY } from '../csr/policy.js';
import { AppError } from '../errors.js';
import type { IntuneClient } from '../intune/client.js';
import { hresultFor } from '../intune/hresult.js';
import { announceDelivered, confirmSuccessBeforeDelivery, notifyFailure } from '../intune/notifications.js';
import type { Logger } from '../log.js';
import type { MessageQueue } from '../queue/types.js';
import type { ScepEndpoint } from '../scep/endpoint.js';
import type { CertificateStore } from '../store/types.js';

export interface IntuneDeps {
  readonly client: IntuneClient;
  readonly queue: MessageQueue;
  readonly poison: MessageQueue;
  readonly store: CertificateStore;
  readonly logger: Logger;
  readonly clock: () => Date;
}

/**
 * `scep/intune`, also served at `certsrv/mscep/mscep.dll` (the NDES path Intune profiles
 * use): Intune's dynamic challenge is validated by Intune itself (validateRequest) before
 * anything is signed; the certificate record starts with notification state `pending` and the
 * success notification goes through the queue (DESIGN decision 5), or, with
 * WaitForSuccessNotificationResponse, is sent before the certificate is returned (test matrix
 * row 24).
 */
export function intuneEndpoint(s: IntuneSettings, d: IntuneDeps): ScepEndpoint {
  const enqueue = { queue: d.queue, log: d.logger };
  return {
    name: 'intune',
    challenge: new IntuneChallengeValidator(d.client, d.logger),
    profile: s.profile,
    policy: DEFAULT_POLICY,
    // Intune never sends RenewalReq; a renewal is a fresh PKCSReq with a new challenge.
    allowRenewals: s.profile.allowRenewals,
    challengeRefusalIsFinal: true,
    storeCertificate: s.profile.enableCertificateStorage,
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
    onIssueFailed: async ({ transactionId, csr }, reason, message) => {
      await notifyFailure(enqueue, {
        transactionId,
        certificateRequest: Buffer.from(csr.der).toString('base64'),
        hResult: hresultFor(new AppError('DEPENDENCY_UNAVAILABLE', message, { detail: { reason } })),
        description: message,
      });
    },
  };
}
