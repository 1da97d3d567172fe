import { decodeKeyset, encodeKeyset, settleSql, type Sqlite } from '../store/sqlite.js';
import type { AuditEvent } from './event.js';
import {
  EQUALITY_FILTERS,
  auditPageSize,
  type AuditPage,
  type AuditPageRequest,
  type AuditQuery,
  type AuditStore,
} from './store.js';

const TOKEN = 'a1.';
const STREAM_PAGE = 1000;
const PRUNE_EVERY_MS = 3_600_000;

/** Column names that differ from the event's field names. */
const COLUMN: Partial<Record<(typeof EQUALITY_FILTERS)[number], string>> = {
  transactionId: 'transaction_id',
  serialNumber: 'serial',
};

/** The audit query in SQL, oldest first, after the keyset position `after` = [time, id]. */
export function auditSql(
  q: AuditQuery,
  after: readonly string[] | undefined,
  take: number,
): { sql: string; params: Record<string, string | number> } {
  const where: string[] = [];
  const params: Record<string, string | number> = { take };
  if (q.from !== undefined) {
    where.push('time >= @from');
    params.from = q.from;
  }
  if (q.to !== undefined) {
    where.push('time < @to');
    params.to = q.to;
  }
  for (const key of EQUALITY_FILTERS) {
    const v = q[key];
    if (v === undefined) continue;
    where.push(`${COLUMN[key] ?? key} = @${key}`);
    params[key] = v;
  }
  if (q.subject !== undefined) {
    where.push('(cn = @subject OR subject = @subject)');
    params.subject = q.subject;
  }
  if (q.scope !== undefined) {
    const any = q.scope.map((s, i) => {
      params[`org${i}`] = s.organization;
      if (s.department === undefined) return `organization = @org${i}`;
      params[`dep${i}`] = s.department;
      return `(organization = @org${i} AND (department IS NULL OR department = @dep${i}))`;
    });
    where.push(any.length > 0 ? `(${any.join(' OR ')})` : '0');
  }
  if (after) {
    where.push('(time > @afterTime OR (time = @afterTime AND id > @afterId))');
    params.afterTime = after[0] ?? '';
    params.afterId = after[1] ?? '';
  }
  const filter = where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '';
  return { sql: `SELECT id, time, event FROM audit${filter} ORDER BY time, id LIMIT @take`, params };
}

/**
 * The audit trail in the embedded database (table `audit`, lib/store/sqlite.ts). Appends are
 * INSERT OR IGNORE by id (a retried append is harmless); pages are keyset ranges on (time, id);
 * events older than the retention are deleted at most once an hour, on an append.
 */
export class SqliteAuditStore implements AuditStore {
  private readonly insert: ReturnType<Sqlite['prepare']>;
  private lastPrune = 0;

  constructor(
    private readonly db: Sqlite,
    private readonly o: { readonly retentionDays: number; readonly now?: () => Date },
  ) {
    this.insert = db.prepare(
      `INSERT OR IGNORE INTO audit (id, time, endpoint, account, organization, department, outcome, reason,
         transaction_id, cn, subject, serial, actor, device, event)
       VALUES (@id, @time, @endpoint, @account, @organization, @department, @outcome, @reason,
         @transactionId, @cn, @subject, @serialNumber, @actor, @device, @event)`,
    );
  }

  append(events: readonly AuditEvent[]): Promise<void> {
    return settleSql('append audit events', () => {
      this.db.transaction(() => {
        for (const e of events) this.insert.run(row(e));
      })();
      this.prune();
    });
  }

  query(query: AuditQuery, page: AuditPageRequest = {}): Promise<AuditPage> {
    return settleSql('query audit events', () => {
      const after =
        page.continuationToken === undefined ? undefined : decodeKeyset(TOKEN, page.continuationToken, 2);
      const size = auditPageSize(page.top);
      const rows = this.read(query, after, size + 1);
      const items = rows.slice(0, size).map((r) => JSON.parse(r.event) as AuditEvent);
      const last = rows.length > size ? rows[size - 1] : undefined;
      return last ? { items, continuationToken: encodeKeyset(TOKEN, [last.time, last.id]) } : { items };
    });
  }

  async *stream(query: AuditQuery): AsyncIterable<AuditEvent> {
    let after: string[] | undefined;
    for (;;) {
      const rows = await settleSql('read audit events', () => this.read(query, after, STREAM_PAGE));
      for (const r of rows) yield JSON.parse(r.event) as AuditEvent;
      const last = rows.at(-1);
      if (!last || rows.length < STREAM_PAGE) return;
      after = [last.time, last.id];
    }
  }

  private read(q: AuditQuery, after: readonly string[] | undefined, take: number): Row[] {
    const { sql, params } = auditSql(q, after, take);
    return this.db.prepare(sql).all(params) as Row[];
  }

  private prune(): void {
    const now = (this.o.now ?? (() => new Date()))().getTime();
    if (now - this.lastPrune < PRUNE_EVERY_MS) return;
    this.lastPrune = now;
    const before = new Date(now - this.o.retentionDays * 86_400_000).toISOString();
    this.db.prepare('DELETE FROM audit WHERE time < ?').run(before);
  }
}

interface Row {
  readonly id: string;
  readonly time: string;
  readonly event: string;
}

function row(e: AuditEvent): Record<string, string | null> {
  return {
    id: e.id,
    time: e.time,
    endpoint: e.endpoint ?? null,
    account: e.account ?? null,
    organization: e.organization ?? null,
    department: e.department ?? null,
    outcome: e.outcome,
    reason: e.reason,
    transactionId: e.transactionId ?? null,
    cn: e.cn ?? null,
    subject: e.subject ?? null,
    serialNumber: e.serialNumber ?? null,
    actor: e.actor ?? null,
    device: e.device ?? null,
    event: JSON.stringify(e),
  };
}
