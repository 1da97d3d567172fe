import { describeError } from '../errors.js';
import type { CertificateRecord, CertificateStore } from '../store/types.js';
import type { IntuneClient } from './client.js';
import { markNotification } from './notification-record.js';
import { type IntuneFailure, intuneReason, type Logger, silentLogger } from './types.js';

export interface ConfirmDeps {
  readonly client: Pick<IntuneClient, 'successNotification'>;
  readonly store: CertificateStore;
  readonly now?: () => Date;
  readonly log?: Logger;
}

export type ConfirmResult =
  | { readonly deliver: true; readonly record: CertificateRecord }
  | { readonly deliver: false; readonly reason: string; readonly detail: string };

/**
 * AppConfig__IntuneValidation__WaitForSuccessNotificationResponse=true: send the success
 * notification on the enrollment request and return the certificate only if Intune accepted it
 * (spec §0: "any exception from … successNotification => MUST NOT issue/deliver the cert";
 * test matrix row 24). Trade-off: the device waits for one more Intune round trip (plus a token
 * request when the cache is cold), and an Intune outage fails enrollments that the queued mode
 * would complete. Call it again on an idempotent retry of the same transaction: a record whose
 * notification was already sent is delivered without a second call.
 */
export async function confirmSuccessBeforeDelivery(
  deps: ConfirmDeps,
  record: CertificateRecord,
): Promise<ConfirmResult> {
  const log = deps.log ?? silentLogger;
  const now = deps.now ?? (() => new Date());
  const n = record.notification;
  if (n?.state === 'sent') return { deliver: true, record };
  if (record.transactionId === undefined || n?.certificateRequest === undefined) {
    return {
      deliver: false,
      reason: 'intune:invalid-argument',
      detail: 'the record has no transactionId or certificateRequest',
    };
  }
  const attempts = n.attempts + 1;
  const r = await deps.client.successNotification({
    transactionId: record.transactionId,
    certificateRequest: n.certificateRequest,
    certificateThumbprint: record.thumbprintSha1,
    certificateSerialNumber: record.serialNumber,
    certificateExpiration: record.notAfter,
    issuingCertificateAuthority: record.issuer,
  });
  if (r.ok) {
    try {
      const marked = await markNotification(deps.store, record, {
        state: 'sent',
        attempts,
        updatedAt: now().toISOString(),
      });
      return { deliver: true, record: marked ?? record };
    } catch (e) {
      // Intune has it; a stale "pending" only means the re-drive timer may send it once more.
      log.warn('intune success notification sent but the record could not be marked', {
        serial: record.serialNumber,
        error: describeError(e),
      });
      return { deliver: true, record };
    }
  }
  return withhold(deps, record, r, attempts, now, log);
}

/** Intune refused the success notification: the certificate is withheld and its record marked. */
async function withhold(
  deps: ConfirmDeps,
  record: CertificateRecord,
  r: IntuneFailure,
  attempts: number,
  now: () => Date,
  log: Logger,
): Promise<ConfirmResult> {
  const reason = intuneReason(r);
  const detail = [r.message, r.errorDescription].filter((s) => s !== undefined && s !== '').join(': ');
  log.warn(`intune successNotification failed (${reason}); certificate withheld`, {
    serial: record.serialNumber,
    transactionId: record.transactionId,
    activityId: r.activityId,
  });
  // "failed", not "pending": the re-drive timer must not announce a certificate the device never got.
  await markNotification(
    deps.store,
    record,
    {
      state: 'failed',
      attempts,
      lastError: `certificate withheld: ${reason} ${detail}`,
      updatedAt: now().toISOString(),
    },
    true,
  ).catch((e: unknown) => {
    log.warn('could not mark the withheld certificate', {
      serial: record.serialNumber,
      error: describeError(e),
    });
  });
  return { deliver: false, reason, detail };
}
