import type { AuditEvent, AuditOutcome } from './event.js';
import type { ReasonCode } from './reasons.js';

/** An organization, or one department of it (an administrator's delegation). */
export interface AuditScopeEntry {
  readonly organization: string;
  readonly department?: string | undefined;
}

/**
 * Filters of the audit query; every given condition must hold. `scope` is what the caller may
 * see (undefined: everything): an event of an organization in scope (a department-scoped entry
 * also sees the organization's events that name no department); events without an
 * organization are then hidden.
 */
export interface AuditQuery {
  /** Inclusive ISO 8601 lower bound. */
  readonly from?: string | undefined;
  /** Exclusive ISO 8601 upper bound. */
  readonly to?: string | undefined;
  readonly endpoint?: string | undefined;
  readonly account?: string | undefined;
  readonly organization?: string | undefined;
  readonly scope?: readonly AuditScopeEntry[] | undefined;
  readonly outcome?: AuditOutcome | undefined;
  readonly reason?: ReasonCode | undefined;
  readonly transactionId?: string | undefined;
  /** The common name or the whole subject DN. */
  readonly subject?: string | undefined;
  readonly serialNumber?: string | undefined;
  readonly actor?: string | undefined;
  readonly device?: string | undefined;
}

export interface AuditPageRequest {
  readonly top?: number | undefined;
  readonly continuationToken?: string | undefined;
}

export interface AuditPage {
  readonly items: AuditEvent[];
  readonly continuationToken?: string;
}

export const DEFAULT_AUDIT_PAGE = 100;
export const MAX_AUDIT_PAGE = 1000;

export function auditPageSize(top: number | undefined): number {
  if (top === undefined || !Number.isFinite(top)) return DEFAULT_AUDIT_PAGE;
  return Math.max(1, Math.min(MAX_AUDIT_PAGE, Math.trunc(top)));
}

/**
 * The audit trail's port: append-only, queried oldest first. One contract
 * (test/unit/audit-store-contract.ts) holds for every implementation.
 */
export interface AuditStore {
  /** Append events; an id already stored is left as it is (a retried append is harmless). */
  append(events: readonly AuditEvent[]): Promise<void>;
  /** One page, oldest first (time, then id). */
  query(query: AuditQuery, page?: AuditPageRequest): Promise<AuditPage>;
  /** Every matching event, oldest first, read page by page: never all in memory at once. */
  stream(query: AuditQuery): AsyncIterable<AuditEvent>;
}

/** Filters that are one equality on the event's field of the same name. */
export const EQUALITY_FILTERS = [
  'endpoint',
  'account',
  'organization',
  'outcome',
  'reason',
  'transactionId',
  'serialNumber',
  'actor',
  'device',
] as const satisfies readonly (keyof AuditQuery & keyof AuditEvent)[];

/** The query as a predicate: the memory store's filter, and the reference the others must match. */
export function matches(q: AuditQuery, e: AuditEvent): boolean {
  return (
    (q.from === undefined || e.time >= q.from) &&
    (q.to === undefined || e.time < q.to) &&
    EQUALITY_FILTERS.every((k) => q[k] === undefined || q[k] === e[k]) &&
    (q.scope === undefined || q.scope.some((s) => reaches(s, e))) &&
    (q.subject === undefined || q.subject === e.cn || q.subject === e.subject)
  );
}

function reaches(s: AuditScopeEntry, e: AuditEvent): boolean {
  if (e.organization === undefined || e.organization !== s.organization) return false;
  return s.department === undefined || e.department === undefined || e.department === s.department;
}

/** Oldest first; ties by id, so paging is stable. */
export function byTime(a: AuditEvent, b: AuditEvent): number {
  return a.time < b.time ? -1 : a.time > b.time ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
