import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import type { MessageQueue } from '../queue/types.js';
import { toAuditEvent, type AuditEvent, type AuditInput } from './event.js';
import { drainOutbox, type OutboxMessage } from './outbox.js';
import type { AuditStore } from './store.js';

/** Where decisions are reported. `record` returns at once and never throws. */
export interface AuditLog {
  record(input: AuditInput): AuditEvent | undefined;
}

export interface AuditSinkOptions {
  readonly store: AuditStore;
  readonly logger: Logger;
  /** Events the store refused wait here (the queue the Intune notifications use too). */
  readonly outbox: MessageQueue;
  /** Outbox messages that cannot be read, or that the store keeps refusing (see outbox.ts). */
  readonly poison: MessageQueue;
  /** Dequeues of an outbox message the store refuses before it goes to `poison`. */
  readonly maxDequeueCount?: number;
  readonly clock?: () => Date;
  /** Events per append call. */
  readonly batchSize?: number;
  /** How long a recorded event may wait for others to share its append, milliseconds. */
  readonly flushDelayMs?: number;
  /** Retries of a refused append before the batch goes to the outbox, milliseconds between. */
  readonly retryDelaysMs?: readonly number[];
}

/**
 * Writes audit events without ever holding up the decision they describe: `record` writes the
 * event to the log at once (so it is never lost, whatever the store does), buffers it and
 * returns; a background flush appends the buffer in batches, retries a refused append, and
 * hands what still fails to the outbox queue, which `drainOutbox` (a timer function, and every
 * successful flush) appends later. Appends are idempotent by event id, so a retry never
 * duplicates an event.
 */
export class AuditSink implements AuditLog {
  private buffer: AuditEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private outboxUsed = false;
  private readonly clock: () => Date;
  private readonly batchSize: number;
  private readonly retryDelaysMs: readonly number[];

  constructor(private readonly o: AuditSinkOptions) {
    this.clock = o.clock ?? (() => new Date());
    this.batchSize = o.batchSize ?? 100;
    this.retryDelaysMs = o.retryDelaysMs ?? [100, 1000];
  }

  record(input: AuditInput): AuditEvent | undefined {
    let event: AuditEvent;
    try {
      event = toAuditEvent(input, this.clock());
    } catch (e) {
      this.o.logger.error('audit event could not be built', { audit: true, error: describeError(e) });
      return undefined;
    }
    const fields = { audit: true, ...event };
    const line = `${event.kind} ${event.outcome}: ${event.reason}`;
    if (event.outcome === 'refused' || event.outcome === 'failed') this.o.logger.warn(line, fields);
    else this.o.logger.info(line, fields);
    this.buffer.push(event);
    if (this.buffer.length >= this.batchSize) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.o.flushDelayMs ?? 50).unref();
    return event;
  }

  /** Append everything recorded so far (or hand it to the outbox). Never rejects. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.buffer;
    this.buffer = [];
    // One flush at a time: the next waits for the previous, so events keep their order.
    this.running = this.running.then(() => this.write(batch));
    return this.running;
  }

  /** Append events the outbox holds; returns how many were appended. Never rejects. */
  drainOutbox(max = 1000): Promise<number> {
    return drainOutbox(this.o, max);
  }

  private async write(events: AuditEvent[]): Promise<void> {
    let stored = events.length > 0;
    for (let i = 0; i < events.length; i += this.batchSize) {
      const batch = events.slice(i, i + this.batchSize);
      if (await this.append(batch)) continue;
      stored = false;
      await this.toOutbox(batch);
    }
    // The store takes events again: bring back what waits in the outbox.
    if (stored && this.outboxUsed && (await this.drainOutbox()) === 0) this.outboxUsed = false;
  }

  private async append(batch: AuditEvent[]): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.o.store.append(batch);
        return true;
      } catch (e) {
        const delay = this.retryDelaysMs[attempt];
        if (delay === undefined) {
          this.o.logger.warn('audit store refused events; they go to the outbox', {
            events: batch.length,
            error: describeError(e),
          });
          return false;
        }
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  private async toOutbox(batch: AuditEvent[]): Promise<void> {
    this.outboxUsed = true;
    for (const event of batch) {
      const message: OutboxMessage = { kind: 'audit', event };
      try {
        await this.o.outbox.send(JSON.stringify(message));
      } catch (e) {
        // The log line written by record() still carries the whole event.
        this.o.logger.error('audit event neither stored nor queued', {
          audit: true,
          id: event.id,
          error: describeError(e),
        });
      }
    }
  }
}
