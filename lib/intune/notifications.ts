import { describeError } from '../errors.js';
import type { MessageQueue } from '../queue/types.js';
import type { CertificateRecord, CertificateStore } from '../store/types.js';
import { truncateDescription } from './client.js';
import type { FailureOutbox } from './failure-outbox.js';
import {
  encodeNotificationMessage,
  type NotificationMessage,
  successMessageFor,
} from './notification-message.js';
import { markNotification } from './notification-record.js';
import { type Logger, silentLogger } from './types.js';

/**
 * Intune success/failure notifications, the enrollment side: issue → record the
 * certificate with notification state pending → enqueue → the queue-triggered worker calls
 * Intune and marks the record. The worker side is notification-worker.ts; the message format is
 * notification-message.ts; the synchronous mode (wait for Intune before delivery) is
 * notification-confirm.ts.
 */

export interface EnqueueDeps {
  readonly queue: MessageQueue;
  readonly log?: Logger;
  /** Where a failure notification goes when the queue cannot be written (drained by the timer). */
  readonly outbox?: Pick<FailureOutbox, 'put'>;
}

/**
 * After an Intune certificate was recorded (notification pending): enqueue its success
 * notification. Never throws: if the queue cannot be written the record stays pending and the
 * re-drive timer (redrivePending) enqueues it later, so the certificate can be returned.
 */
export async function notifyAfterIssue(
  deps: EnqueueDeps,
  record: CertificateRecord,
): Promise<{ queued: boolean }> {
  const log = deps.log ?? silentLogger;
  const message = successMessageFor(record);
  if (!message) {
    log.error(
      'intune success notification not queued: the record has no transactionId or certificateRequest',
      {
        serial: record.serialNumber,
      },
    );
    return { queued: false };
  }
  try {
    await deps.queue.send(encodeNotificationMessage(message));
    return { queued: true };
  } catch (e) {
    log.warn('intune success notification not queued; the re-drive timer will retry', {
      serial: record.serialNumber,
      transactionId: record.transactionId,
      error: describeError(e),
    });
    return { queued: false };
  }
}

/**
 * Queued mode, once the certificate has been delivered (its CertRep exists): a record still
 * `undelivered` becomes `pending` and its success notification is queued. A record is created
 * `undelivered`, so a certificate whose reply could not be produced is never announced (not by
 * this path, not by the re-drive timer, which only picks `pending`); the client's retry replays
 * it and lands here. Throws when the record cannot be marked: the certificate is then withheld,
 * and the retry tries again.
 */
export async function announceDelivered(
  deps: EnqueueDeps & { readonly store: CertificateStore; readonly now: () => Date },
  record: CertificateRecord,
): Promise<void> {
  const n = record.notification;
  if (n?.state !== 'undelivered') return;
  // Only from `undelivered`: a concurrent delivery of the same certificate announced it already.
  const next = { state: 'pending', attempts: n.attempts, updatedAt: deps.now().toISOString() } as const;
  const marked = await markNotification(deps.store, record, next, false, 'undelivered');
  if (marked?.notification?.state === 'pending') await notifyAfterIssue(deps, marked);
}

/**
 * Issuance failed after a successful validateRequest: queue a failureNotification. Only for
 * the CA's own failures; "never send failureNotification for a failed validateRequest or a
 * failed successNotification" (spec §7). When the queue cannot be written the message goes to
 * the outbox, which the re-drive timer queues later. Never throws.
 */
export async function notifyFailure(
  deps: EnqueueDeps,
  f: {
    /** The endpoint whose Intune connection validated the request. */
    readonly endpoint: string;
    readonly transactionId: string;
    readonly certificateRequest: string;
    readonly hResult: number;
    readonly description: string;
  },
): Promise<{ queued: boolean }> {
  const message: NotificationMessage = {
    v: 1,
    kind: 'failure',
    endpoint: f.endpoint,
    transactionId: f.transactionId,
    certificateRequest: f.certificateRequest,
    hResult: f.hResult | 0,
    description: truncateDescription(f.description),
    attempt: 0,
  };
  const log = deps.log ?? silentLogger;
  try {
    await deps.queue.send(encodeNotificationMessage(message));
    return { queued: true };
  } catch (e) {
    try {
      if (!deps.outbox) throw e;
      await deps.outbox.put(message);
      log.warn('intune failure notification not queued; kept in the outbox for the re-drive timer', {
        transactionId: f.transactionId,
        error: describeError(e),
      });
    } catch (e2) {
      log.error('intune failure notification could not be queued nor kept, and is lost', {
        transactionId: f.transactionId,
        error: describeError(e2),
      });
    }
    return { queued: false };
  }
}
