import { randomUUID } from 'node:crypto';
import { describeError, isAppError } from '../errors.js';
import type { MessageQueue } from '../queue/types.js';
import type { DocumentCollection } from '../store/documents.js';
import { encodeNotificationMessage, type NotificationMessage } from './notification-message.js';
import { silentLogger, type Logger } from './types.js';

const KIND = 'intune-failure-outbox';
/** A claim older than this is someone's crashed drain: the entry may be sent again. */
const CLAIM_MS = 5 * 60_000;

export interface OutboxEntry {
  readonly id: string;
  readonly kind: typeof KIND;
  /** The queue message text, as it would have been queued. */
  readonly message: string;
  readonly transactionId: string;
  readonly createdAt: string;
  readonly claimedAt?: string | undefined;
}

/**
 * Failure notifications whose queue write failed. A success notification is never lost because
 * its certificate record stays `pending` and the re-drive timer queues it again; a failure has no
 * record, so the message itself is kept in the store (the `state` collection) and the same timer
 * queues it once the queue takes writes again. An entry is claimed (etag-guarded) before it is
 * sent and deleted after, so concurrent timers queue it once.
 */
export class FailureOutbox {
  constructor(
    private readonly docs: DocumentCollection<OutboxEntry>,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async put(message: NotificationMessage): Promise<void> {
    await this.docs.create({
      id: `${KIND}-${randomUUID()}`,
      kind: KIND,
      message: encodeNotificationMessage(message),
      transactionId: message.transactionId,
      createdAt: this.now().toISOString(),
    });
  }

  /** Queue every entry (not claimed by a running drain); returns how many were queued. */
  async drain(queue: MessageQueue, log: Logger = silentLogger): Promise<{ sent: number; failed: number }> {
    let sent = 0;
    let failed = 0;
    let continuationToken: string | undefined;
    do {
      const page = await this.docs.list(
        { kind: KIND },
        { top: 100, ...(continuationToken === undefined ? {} : { continuationToken }) },
      );
      continuationToken = page.continuationToken;
      for (const entry of page.items) {
        const at = this.now();
        if (entry.claimedAt !== undefined && at.getTime() - Date.parse(entry.claimedAt) < CLAIM_MS) continue;
        try {
          const claim: OutboxEntry = {
            id: entry.id,
            kind: KIND,
            message: entry.message,
            transactionId: entry.transactionId,
            createdAt: entry.createdAt,
            claimedAt: at.toISOString(),
          };
          const claimed = await this.docs.replace(claim, entry.etag);
          await queue.send(entry.message);
          await this.docs.delete(claimed.id, claimed.id, claimed.etag);
          sent += 1;
        } catch (e) {
          if (isAppError(e) && e.code === 'PRECONDITION_FAILED') continue; // another drain has it
          failed += 1;
          log.warn('intune failure notification still not queued; retried by the next timer', {
            transactionId: entry.transactionId,
            error: describeError(e),
          });
        }
      }
    } while (continuationToken !== undefined);
    if (sent > 0 || failed > 0) log.info('intune failure-notification outbox drained', { sent, failed });
    return { sent, failed };
  }
}
