import { AppError } from '../errors.js';
import type { AuditEvent } from './event.js';
import { serial } from './query.js';
import type { AuditQuery, AuditScopeEntry, AuditStore } from './store.js';

/**
 * One attempt of the timeline: what was decided, which check decided it, the values it compared
 * (never a challenge) and the fix.
 */
export type Attempt = Pick<
  AuditEvent,
  | 'time'
  | 'endpoint'
  | 'operation'
  | 'outcome'
  | 'reason'
  | 'check'
  | 'message'
  | 'fix'
  | 'compared'
  | 'transactionId'
  | 'serialNumber'
  | 'subject'
  | 'id'
>;

export interface Explanation {
  readonly attempts: Attempt[];
}

/** At most this many attempts are told (the newest are kept). */
export const MAX_ATTEMPTS = 500;

/** What to explain: exactly one of transactionId, subject, serial, device. */
export function parseExplainRequest(params: URLSearchParams): AuditQuery {
  const given = (['transactionId', 'subject', 'serial', 'device'] as const)
    .map((k) => [k, params.get(k)?.trim()] as const)
    .filter((e): e is readonly [(typeof e)[0], string] => e[1] !== undefined && e[1] !== '');
  const [first] = given;
  if (!first || given.length > 1) {
    throw new AppError('BAD_REQUEST', 'give exactly one of transactionId, subject, serial or device');
  }
  const [key, value] = first;
  if (value.length > 512) throw new AppError('BAD_REQUEST', `${key} is too long`);
  return key === 'serial' ? { serialNumber: serial(value) } : { [key]: value };
}

/**
 * "Why did this device not get a certificate?": every decision about the requests that match,
 * oldest first. A serial also brings in the attempts of the transaction that issued it, so
 * the refusals before the certificate are part of its story.
 */
export async function explain(
  store: AuditStore,
  query: AuditQuery,
  scope: readonly AuditScopeEntry[] | undefined,
): Promise<Explanation> {
  const found = new Map<string, AuditEvent>();
  const collect = async (q: AuditQuery): Promise<void> => {
    for await (const e of store.stream({ ...q, scope })) {
      if (e.kind === 'management' || e.kind === 'key') continue;
      found.set(e.id, e);
    }
  };
  await collect(query);
  if (query.serialNumber !== undefined) {
    const transactions = new Set(
      [...found.values()].map((e) => e.transactionId).filter((t) => t !== undefined),
    );
    for (const transactionId of transactions) await collect({ transactionId });
  }
  const events = [...found.values()].sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
  return { attempts: events.slice(-MAX_ATTEMPTS).map(toAttempt) };
}

function toAttempt(e: AuditEvent): Attempt {
  return {
    time: e.time,
    endpoint: e.endpoint,
    operation: e.operation,
    outcome: e.outcome,
    reason: e.reason,
    check: e.check,
    message: e.message,
    fix: e.fix,
    compared: e.compared,
    transactionId: e.transactionId,
    serialNumber: e.serialNumber,
    subject: e.subject,
    id: e.id,
  };
}
