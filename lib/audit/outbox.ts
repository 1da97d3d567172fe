import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import type { MessageQueue, ReceivedMessage } from '../queue/types.js';
import type { AuditEvent } from './event.js';
import type { AuditStore } from './store.js';

/** An audit event waiting in the outbox queue for the store to take it. */
export interface OutboxMessage {
  readonly kind: 'audit';
  readonly event: AuditEvent;
}

export interface OutboxDeps {
  readonly store: AuditStore;
  readonly logger: Logger;
  readonly outbox: MessageQueue;
  /** Where a message goes that cannot be read or that the store keeps refusing; never expires. */
  readonly poison: MessageQueue;
  /** Dequeues of a refused message before it goes to `poison` (the host.json queue default, 5). */
  readonly maxDequeueCount?: number;
}

/** Seconds a received message stays hidden: the next drain (one a minute) sees it again. */
const VISIBILITY_SECONDS = 60;

/**
 * Append events the outbox holds; returns how many were appended. Never rejects. A batch the
 * store refuses is appended one event at a time, so one event the store always refuses (or a
 * message that is not an outbox message) does not hold up the others; such a message goes to the
 * poison queue with its text, the first at once, the second after `maxDequeueCount` dequeues.
 */
export async function drainOutbox(deps: OutboxDeps, max = 1000): Promise<number> {
  let moved = 0;
  try {
    while (moved < max) {
      const messages = await deps.outbox.receive(32, VISIBILITY_SECONDS);
      if (messages.length === 0) break;
      const readable: { message: ReceivedMessage; event: AuditEvent }[] = [];
      for (const message of messages) {
        const event = readMessage(message.text);
        if (event) readable.push({ message, event });
        else await toPoison(deps, message, 'not an audit outbox message');
      }
      const stored = await appendAll(deps, readable);
      moved += stored;
      // Nothing of a non-empty batch was taken: the store is down; the next drain tries again.
      if (stored === 0 && readable.length > 0) break;
    }
  } catch (e) {
    deps.logger.warn('audit outbox not drained; retried later', { error: describeError(e) });
  }
  return moved;
}

/** Append the batch, or each event alone when the store refuses the batch; returns how many were stored. */
async function appendAll(
  deps: OutboxDeps,
  items: readonly { message: ReceivedMessage; event: AuditEvent }[],
): Promise<number> {
  if (items.length === 0) return 0;
  try {
    await deps.store.append(items.map((i) => i.event));
    for (const i of items) await deps.outbox.delete(i.message);
    return items.length;
  } catch {
    // Which event was refused is not known: find out one at a time.
  }
  let stored = 0;
  for (const { message, event } of items) {
    try {
      await deps.store.append([event]);
      await deps.outbox.delete(message);
      stored += 1;
    } catch (e) {
      if (message.dequeueCount < (deps.maxDequeueCount ?? 5)) continue;
      await toPoison(
        deps,
        message,
        `the store refused it ${message.dequeueCount} times: ${describeError(e)}`,
      );
    }
  }
  return stored;
}

async function toPoison(deps: OutboxDeps, message: ReceivedMessage, why: string): Promise<void> {
  deps.logger.error(`audit outbox message moved to ${deps.poison.name}: ${why}`, {
    audit: true,
    messageId: message.id,
    text: message.text,
  });
  await deps.poison.send(message.text);
  await deps.outbox.delete(message);
}

function readMessage(text: string): AuditEvent | undefined {
  try {
    const m = JSON.parse(text) as { kind?: unknown; event?: { id?: unknown } | null } | null;
    const event = m?.kind === 'audit' ? m.event : undefined;
    return typeof event?.id === 'string' ? (event as AuditEvent) : undefined;
  } catch {
    return undefined;
  }
}
