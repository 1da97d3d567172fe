import { AppError } from '../errors.js';
import type { AuditEvent } from './event.js';
import {
  auditPageSize,
  byTime,
  matches,
  type AuditPage,
  type AuditPageRequest,
  type AuditQuery,
  type AuditStore,
} from './store.js';

/** In-process audit trail (tests, and the local host without a database). */
export class MemoryAuditStore implements AuditStore {
  private readonly events: AuditEvent[] = [];
  private readonly ids = new Set<string>();
  private sorted = true;

  append(events: readonly AuditEvent[]): Promise<void> {
    for (const e of events) {
      if (this.ids.has(e.id)) continue;
      this.ids.add(e.id);
      const last = this.events.at(-1);
      if (last && byTime(last, e) > 0) this.sorted = false;
      this.events.push(structuredClone(e));
    }
    return Promise.resolve();
  }

  query(query: AuditQuery, page: AuditPageRequest = {}): Promise<AuditPage> {
    if (page.continuationToken !== undefined && !TOKEN.test(page.continuationToken)) {
      return Promise.reject(
        new AppError('BAD_REQUEST', 'the continuation token is not valid for this store'),
      );
    }
    const start = page.continuationToken === undefined ? 0 : offsetOf(page.continuationToken);
    const size = auditPageSize(page.top);
    const all = this.ordered().filter((e) => matches(query, e));
    const items = all.slice(start, start + size).map((e) => structuredClone(e));
    const next = start + size < all.length ? `m.${start + size}` : undefined;
    return Promise.resolve(next === undefined ? { items } : { items, continuationToken: next });
  }

  async *stream(query: AuditQuery): AsyncIterable<AuditEvent> {
    // A snapshot of references: appends during the export do not shift it.
    for (const e of [...this.ordered()]) if (matches(query, e)) yield structuredClone(e);
    await Promise.resolve();
  }

  /** Every stored event, oldest first (tests). */
  get all(): readonly AuditEvent[] {
    return this.ordered();
  }

  private ordered(): AuditEvent[] {
    if (!this.sorted) {
      this.events.sort(byTime);
      this.sorted = true;
    }
    return this.events;
  }
}

const TOKEN = /^m\.(\d{1,9})$/;

function offsetOf(token: string): number {
  return Number(TOKEN.exec(token)?.[1] ?? 0);
}
