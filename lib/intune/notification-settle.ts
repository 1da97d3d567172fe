import type { ReasonCode } from '../audit/reasons.js';
import type { CertificateRecord, NotificationState } from '../store/types.js';
import { encodeNotificationMessage, type NotificationMessage } from './notification-message.js';
import { markNotification } from './notification-record.js';
import type { NotificationOutcome, WorkerDeps } from './notification-worker.js';
import {
  type IntuneFailure,
  intuneReason,
  intuneReasonCode,
  type IntuneResult,
  type Logger,
} from './types.js';

/**
 * What the notification worker (notification-worker.ts) does with Intune's answer: mark the
 * record sent, re-enqueue with back-off, or give up to the poison queue.
 */

export const defaultBackoffSeconds = (attempt: number): number =>
  Math.min(30 * 4 ** Math.max(attempt - 1, 0), 900);

/** Intune's definitive answers; anything else may succeed later. */
function isPermanent(r: IntuneFailure): boolean {
  return r.kind === 'code' || r.kind === 'invalid-argument' || (r.kind === 'http' && r.httpStatus === 400);
}

/** The notification Intune has to hear, sent through the endpoint's connection. */
export interface Sent {
  /** The certificate's record (success notifications): its notification state is kept there. */
  readonly record: CertificateRecord | undefined;
  readonly attempt: number;
  readonly result: IntuneResult;
}

/** Record what Intune answered: sent, retried later with back-off, or given up (poison queue). */
export async function settle(
  message: NotificationMessage,
  { record, attempt, result }: Sent,
  deps: WorkerDeps,
  now: () => Date,
  log: Logger,
): Promise<NotificationOutcome> {
  const fields = {
    kind: message.kind,
    transactionId: message.transactionId,
    serial: record?.serialNumber,
    attempt,
  };
  const mark = marker(deps, record, attempt, now);
  const audit = (outcome: 'notified' | 'failed', reason: ReasonCode, text: string): void => {
    auditOutcome(deps, message, record, { outcome, reason, text });
  };
  if (result.ok) {
    await mark('sent');
    audit(
      'notified',
      'intune-notified',
      `Intune accepted the ${message.kind} notification (attempt ${attempt})`,
    );
    log.info(`intune ${message.kind}Notification sent`, { ...fields, activityId: result.activityId });
    return 'sent';
  }
  const reason = intuneReason(result);
  const lastError = `${reason}: ${result.message}${result.errorDescription ? `: ${result.errorDescription}` : ''}`;
  const maxAttempts = deps.maxAttempts ?? 8;
  if (isPermanent(result) || attempt >= maxAttempts) {
    await deps.poison.send(encodeNotificationMessage({ ...message, attempt, lastError }));
    await mark('failed', lastError);
    audit(
      'failed',
      intuneReasonCode(result),
      `the ${message.kind} notification gave up after ${attempt} attempt(s): ${lastError}`,
    );
    log.error(`intune ${message.kind}Notification gave up after ${attempt} attempt(s): ${reason}`, {
      ...fields,
      lastError,
    });
    return 'failed';
  }
  await mark('pending', lastError);
  const delaySeconds = (deps.backoffSeconds ?? defaultBackoffSeconds)(attempt);
  await deps.queue.send(encodeNotificationMessage({ ...message, attempt, lastError }), { delaySeconds });
  log.warn(`intune ${message.kind}Notification failed (${reason}); retry in ${delaySeconds} s`, {
    ...fields,
    lastError,
  });
  return 'retry-scheduled';
}

/** Keeps the notification state on the certificate's record, when there is one. */
function marker(
  deps: WorkerDeps,
  record: CertificateRecord | undefined,
  attempt: number,
  now: () => Date,
): (state: NotificationState, lastError?: string) => Promise<void> {
  return async (state, lastError) => {
    if (!record) return;
    await markNotification(deps.store, record, {
      state,
      attempts: attempt,
      lastError,
      updatedAt: now().toISOString(),
    });
  };
}

/** A final outcome (sent, given up) as an audit event. */
function auditOutcome(
  deps: WorkerDeps,
  message: NotificationMessage,
  record: CertificateRecord | undefined,
  o: { readonly outcome: 'notified' | 'failed'; readonly reason: ReasonCode; readonly text: string },
): void {
  deps.audit?.record({
    kind: 'intune-notification',
    operation: `${message.kind}Notification`,
    endpoint: record?.endpoint,
    transactionId: message.transactionId,
    serialNumber: record?.serialNumber,
    subject: record?.subject,
    actor: 'intune',
    outcome: o.outcome,
    reason: o.reason,
    message: o.text,
  });
}
