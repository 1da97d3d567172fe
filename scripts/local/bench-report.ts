import { availableParallelism } from 'node:os';
import type { QueryTiming } from '../bench-store.js';

/** `npm run bench`'s results: one table of enrollment runs, then the query timings. */

export interface Target {
  readonly name: string;
  readonly url: string;
  /** Records in the store when the target started. */
  readonly size: number;
  /** Milliseconds from spawning the host to its first answer. */
  readonly startMs?: number;
  stop(): Promise<void>;
}

export interface Row {
  target: string;
  /** `first`: the first enrollments a freshly started server answers; `warm`: after the warm-up. */
  phase: 'first' | 'warm';
  size: number;
  concurrency: number;
  ok: number;
  failed: number;
  perSecond: number;
  p50: number;
  p99: number;
  duplicates: number;
}

export function printTable(
  rows: readonly Row[],
  targets: readonly Target[],
  run: { readonly total: number; readonly warmup: number },
): void {
  const head = [
    'server',
    'phase',
    'records',
    'conc',
    'enroll/s',
    'p50 ms',
    'p99 ms',
    'ok',
    'failed',
    'dup',
    'vs micromdm',
    'vs empty',
  ];
  const lines = rows.map((r) => cells(r, rows));
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const fmt = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ');
  process.stdout.write(
    `\n${fmt(head)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${lines.map(fmt).join('\n')}\n`,
  );
  for (const t of targets) {
    if (t.startMs !== undefined) {
      process.stdout.write(
        `${t.name} with ${t.size.toLocaleString('en-US')} records: first answer ${t.startMs.toFixed(0)} ms after start\n`,
      );
    }
  }
  process.stdout.write(
    `(${run.total} enrollments per cell; "first": the first ones after the server started, "warm": after ${run.warmup} untimed ones; RSA-2048 client keys, nproc=${availableParallelism()}, node ${process.version})\n`,
  );
}

/** One row of the table: the run, and its ratios to micromdm's and to the empty store's row. */
function cells(r: Row, rows: readonly Row[]): string[] {
  const p = rows.find(
    (x) => x.concurrency === r.concurrency && x.phase === r.phase && x.target.startsWith('micromdm'),
  );
  const e = rows.find(
    (x) => x.target === r.target && x.concurrency === r.concurrency && x.phase === r.phase && x.size === 0,
  );
  return [
    r.target,
    r.phase,
    r.size.toLocaleString('en-US'),
    String(r.concurrency),
    r.perSecond.toFixed(1),
    r.p50.toFixed(1),
    r.p99.toFixed(1),
    String(r.ok),
    String(r.failed),
    String(r.duplicates),
    p && !r.target.startsWith('micromdm') ? `${(r.perSecond / p.perSecond).toFixed(2)}x` : '',
    e && r.size > 0 ? `${((100 * r.perSecond) / e.perSecond).toFixed(0)} %` : '',
  ];
}

export function printQueries(queries: readonly QueryTiming[], preloadMs: number, preloaded: number): void {
  process.stdout.write(
    `\nqueries on ${preloaded.toLocaleString('en-US')} records (pre-loaded in ${(preloadMs / 1000).toFixed(1)} s), 20 runs each:\n`,
  );
  const width = Math.max(...queries.map((q) => q.name.length));
  for (const q of queries) {
    process.stdout.write(
      `  ${q.name.padEnd(width)}  ${String(q.found).padStart(3)} found  p50 ${q.p50.toFixed(2)} ms  max ${q.max.toFixed(2)} ms\n`,
    );
  }
}
