import { describeError } from '../errors.js';
import type { MessageQueue } from '../queue/types.js';
import type { CertificateStore } from '../store/types.js';
import {
  encodeNotificationMessage,
  parseNotificationMessage,
  successMessageFor,
} from './notification-message.js';
import { markNotification } from './notification-record.js';
import { type Logger, silentLogger } from './types.js';

/** Sending Intune notifications again: stale `pending` records (timer) and the poison queue (operator). */

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
