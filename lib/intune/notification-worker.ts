import { describeError } from '../errors.js';
import type { MessageQueue } from '../queue/types.js';
import type { CertificateRecord, CertificateStore, NotificationState } from '../store/types.js';
import type { IntuneClient } from './client.js';
import {
  encodeNotificationMessage,
  type NotificationMessage,
  parseNotificationMessage,
  successMessageFor,
} from './notification-message.js';
import { markNotification } from './notification-record.js';
import type { ReasonCode } from '../audit/reasons.js';
import type { AuditLog } from '../audit/sink.js';
import {
  type IntuneFailure,
  intuneReason,
  intuneReasonCode,
  type IntuneResult,
  type Logger,
  silentLogger,
} from './types.js';

/**
 * The worker side of Intune notifications (issue → record `pending` → enqueue →
 * this worker calls Intune and marks the record). processNotification runs in the
 * queue trigger; redrivePending in a timer; redrivePoison on an operator's request.
 *
 * Retries: a transient failure (timeout, network, HTTP 5xx/401/429, token or discovery failure)
 * re-enqueues the message with an exponential delay (30 s, 2 min, 8 min, then every 15 min) and
 * completes, so the backoff does not depend on host.json. After `maxAttempts` deliveries, or at
 * once when Intune answers a business code (HTTP 200 + code other than Success) or HTTP 400,
 * the message goes to `<queue>-poison` and the record is marked `failed`. If the store or the
 * queue cannot be written the function throws and the host retries the message (and, after its
 * maxDequeueCount, poisons it; the record then stays `pending` and the timer re-drives it).
 * Delivery is at least once: Intune may see a notification twice, never zero times.
 */

export type NotifyClient = Pick<IntuneClient, 'successNotification' | 'failureNotification'>;

export interface WorkerDeps {
  /** The settings-defined connection; used for every message when `clientFor` is absent. */
  readonly client?: NotifyClient;
  /**
   * The Intune connection of the endpoint a message belongs to (undefined: messages written
   * before endpoints were data). Resolves undefined when that endpoint has no connection any more.
   */
  readonly clientFor?: (endpoint: string | undefined) => Promise<NotifyClient | undefined>;
  readonly store: CertificateStore;
  readonly queue: MessageQueue;
  readonly poison: MessageQueue;
  readonly now?: () => Date;
  readonly log?: Logger;
  /** Final outcomes (sent, given up) become audit events. */
  readonly audit?: AuditLog;
  /** Deliveries before giving up. Default 8 (AppConfig__IntuneValidation__NotificationMaxAttempts). */
  readonly maxAttempts?: number;
  /** Delay before the next attempt after `attempt` failed ones. */
  readonly backoffSeconds?: (attempt: number) => number;
}

export type NotificationOutcome =
  'sent' | 'skipped' | 'retry-scheduled' | 'failed' | 'malformed' | 'no-record';

export const defaultBackoffSeconds = (attempt: number): number =>
  Math.min(30 * 4 ** Math.max(attempt - 1, 0), 900);

/** Intune's definitive answers; anything else may succeed later. */
function isPermanent(r: IntuneFailure): boolean {
  return r.kind === 'code' || r.kind === 'invalid-argument' || (r.kind === 'http' && r.httpStatus === 400);
}

/**
 * Handle one queue message. `dequeueCount` is the host's (triggerMetadata.dequeueCount).
 * Resolves the outcome; throws (AppError DEPENDENCY_UNAVAILABLE) when the host should retry.
 */
export async function processNotification(
  input: unknown,
  meta: { readonly dequeueCount?: number },
  deps: WorkerDeps,
): Promise<NotificationOutcome> {
  const log = deps.log ?? silentLogger;
  const now = deps.now ?? (() => new Date());
  const message = parseNotificationMessage(input);
  if (!message) {
    log.error('intune notification message is malformed; moved to the poison queue');
    await deps.poison.send(typeof input === 'string' ? input : JSON.stringify(input));
    return 'malformed';
  }
  const sent = await send(message, meta, deps, now, log);
  return typeof sent === 'string' ? sent : settle(message, sent, deps, now, log);
}

/** The notification Intune has to hear, sent through the endpoint's connection. */
interface Sent {
  /** The certificate's record (success notifications): its notification state is kept there. */
  readonly record: CertificateRecord | undefined;
  readonly attempt: number;
  readonly result: IntuneResult;
}

/** Send one notification; an outcome instead when there is nothing (more) to send. */
async function send(
  message: NotificationMessage,
  meta: { readonly dequeueCount?: number },
  deps: WorkerDeps,
  now: () => Date,
  log: Logger,
): Promise<Sent | NotificationOutcome> {
  if (message.kind === 'success') {
    const record = await deps.store.getBySerial(message.serial);
    if (!record) {
      log.error('intune success notification for an unknown certificate; moved to the poison queue', {
        serial: message.serial,
      });
      await deps.poison.send(encodeNotificationMessage({ ...message, lastError: 'no certificate record' }));
      return 'no-record';
    }
    if (record.notification?.state !== 'pending') return 'skipped';
    const attempt = Math.max(record.notification.attempts + 1, meta.dequeueCount ?? 1);
    const client = await clientOf(deps, record.endpoint);
    if (!client) return noConnection(deps, message, record, attempt, now);
    const result = await client.successNotification({
      transactionId: record.transactionId ?? message.transactionId,
      certificateRequest: record.notification.certificateRequest ?? message.certificateRequest,
      certificateThumbprint: record.thumbprintSha1,
      certificateSerialNumber: record.serialNumber,
      certificateExpiration: record.notAfter,
      issuingCertificateAuthority: record.issuer,
    });
    return { record, attempt, result };
  }
  const attempt = Math.max(message.attempt + 1, meta.dequeueCount ?? 1);
  const client = await clientOf(deps, message.endpoint);
  if (!client) return noConnection(deps, message, undefined, attempt, now);
  const result = await client.failureNotification({
    transactionId: message.transactionId,
    certificateRequest: message.certificateRequest,
    hResult: message.hResult,
    errorDescription: message.description,
  });
  return { record: undefined, attempt, result };
}

/** Record what Intune answered: sent, retried later with back-off, or given up (poison queue). */
async function settle(
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
  const mark = async (state: NotificationState, lastError?: string): Promise<void> => {
    if (!record) return;
    await markNotification(deps.store, record, {
      state,
      attempts: attempt,
      lastError,
      updatedAt: now().toISOString(),
    });
  };
  const audit = (outcome: 'notified' | 'failed', reason: ReasonCode, text: string): void => {
    deps.audit?.record({
      kind: 'intune-notification',
      operation: `${message.kind}Notification`,
      endpoint: record?.endpoint,
      transactionId: message.transactionId,
      serialNumber: record?.serialNumber,
      subject: record?.subject,
      actor: 'intune',
      outcome,
      reason,
      message: text,
    });
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

function clientOf(deps: WorkerDeps, endpoint: string | undefined): Promise<NotifyClient | undefined> {
  return deps.clientFor ? deps.clientFor(endpoint) : Promise.resolve(deps.client);
}

/** The endpoint is gone or has no Intune connection: nobody to tell; poison it for the operator. */
async function noConnection(
  deps: WorkerDeps,
  message: NotificationMessage,
  record: CertificateRecord | undefined,
  attempt: number,
  now: () => Date,
): Promise<NotificationOutcome> {
  const lastError = `no Intune connection for endpoint "${message.endpoint ?? record?.endpoint ?? ''}"`;
  await deps.poison.send(encodeNotificationMessage({ ...message, attempt, lastError }));
  if (record)
    await markNotification(deps.store, record, {
      state: 'failed',
      attempts: attempt,
      lastError,
      updatedAt: now().toISOString(),
    });
  (deps.log ?? silentLogger).error(`intune ${message.kind}Notification not sent: ${lastError}`, {
    transactionId: message.transactionId,
    serial: record?.serialNumber,
  });
  return 'failed';
}

export interface RedriveDeps {
  readonly store: CertificateStore;
  readonly queue: MessageQueue;
  readonly now?: () => Date;
  readonly log?: Logger;
}

/**
 * Timer: enqueue again every record still `pending` whose notification was last touched before
 * `olderThan` (the queue write after issuance failed, or its message was poisoned by the host).
 * `olderThan` must leave more room than the longest retry delay (15 min), e.g. now − 60 min.
 * The record's updatedAt is bumped first (etag-guarded), so concurrent timers enqueue once.
 */
export async function redrivePending(
  deps: RedriveDeps,
  olderThan: Date,
): Promise<{ readonly requeued: number; readonly failed: number }> {
  const log = deps.log ?? silentLogger;
  const now = deps.now ?? (() => new Date());
  let requeued = 0;
  let failed = 0;
  let continuationToken: string | undefined;
  do {
    const page = await deps.store.search({
      notificationState: 'pending',
      limit: 100,
      ...(continuationToken === undefined ? {} : { continuationToken }),
    });
    continuationToken = page.continuationToken;
    for (const record of page.items) {
      const n = record.notification;
      if (!n || Date.parse(n.updatedAt) >= olderThan.getTime()) continue;
      const message = successMessageFor(record, n.attempts);
      try {
        if (!message) throw new Error('the record has no transactionId or certificateRequest');
        const claimed = await deps.store.update(record, {
          notification: { ...n, updatedAt: now().toISOString() },
        });
        if (!claimed) continue; // someone else touched it: not stale any more
        await deps.queue.send(encodeNotificationMessage(message));
        requeued += 1;
      } catch (e) {
        failed += 1;
        log.warn('intune notification re-drive failed', {
          serial: record.serialNumber,
          error: describeError(e),
        });
      }
    }
  } while (continuationToken !== undefined);
  if (requeued > 0 || failed > 0) log.info('intune notification re-drive', { requeued, failed });
  return { requeued, failed };
}

/**
 * Operator action (e.g. after fixing the app registration's permissions): move up to `max`
 * messages from the poison queue back to the main queue with a fresh attempt budget, and set
 * their records back to `pending`. Malformed messages and unknown certificates stay put.
 */
export async function redrivePoison(
  deps: RedriveDeps & { readonly poison: MessageQueue },
  max = 100,
): Promise<{ readonly requeued: number; readonly kept: number }> {
  const log = deps.log ?? silentLogger;
  const now = deps.now ?? (() => new Date());
  let requeued = 0;
  let kept = 0;
  while (requeued + kept < max) {
    const batch = await deps.poison.receive(Math.min(32, max - requeued - kept), 300);
    if (batch.length === 0) break;
    for (const item of batch) {
      const m = parseNotificationMessage(item.text);
      const record = m?.kind === 'success' ? await deps.store.getBySerial(m.serial) : undefined;
      if (!m || (m.kind === 'success' && !record)) {
        kept += 1;
        continue;
      }
      if (record?.notification?.state !== 'sent') {
        if (record) {
          const fresh = { state: 'pending', attempts: 0, updatedAt: now().toISOString() } as const;
          await markNotification(deps.store, record, fresh, true);
        }
        await deps.queue.send(encodeNotificationMessage({ ...m, attempt: 0, lastError: undefined }));
      }
      await deps.poison.delete(item);
      requeued += 1;
    }
  }
  log.info('intune poison queue re-drive', { requeued, kept });
  return { requeued, kept };
}
