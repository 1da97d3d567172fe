import type { MessageQueue } from '../queue/types.js';
import type { CertificateRecord, CertificateStore } from '../store/types.js';
import type { AuditLog } from '../audit/sink.js';
import type { IntuneClient } from './client.js';
import {
  encodeNotificationMessage,
  type NotificationMessage,
  parseNotificationMessage,
} from './notification-message.js';
import { markNotification } from './notification-record.js';
import { type Sent, settle } from './notification-settle.js';
import { type Logger, silentLogger } from './types.js';

/**
 * The worker side of Intune notifications (issue → record `pending` → enqueue →
 * this worker calls Intune and marks the record). processNotification runs in the
 * queue trigger (Intune's answer is settled in notification-settle.ts); redrivePending in a
 * timer and redrivePoison on an operator's request (notification-redrive.ts).
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
