import type { AuditEvent } from './event.js';

/** CSV columns, in order; nested values (compared, changes) as compact JSON. */
export const CSV_COLUMNS = [
  'time',
  'id',
  'kind',
  'endpoint',
  'account',
  'organization',
  'department',
  'actor',
  'operation',
  'transactionId',
  'subject',
  'serialNumber',
  'device',
  'outcome',
  'reason',
  'check',
  'message',
  'fix',
  'compared',
  'changes',
  'authorization',
] as const satisfies readonly (keyof AuditEvent)[];

/**
 * RFC 4180 field: quoted when it holds a comma, quote or line break. A leading = + - @ is
 * prefixed with ' so that a spreadsheet does not evaluate a device-chosen subject as a formula
 * (OWASP "CSV injection").
 */
export function csvField(value: string | number | boolean | object | undefined): string {
  if (value === undefined) return '';
  let s = typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const CHUNK = 64 * 1024;

/** Text chunks of a CSV file: a header row, then one row per event, read as they come. */
export async function* csvChunks(events: AsyncIterable<AuditEvent>): AsyncIterable<string> {
  let buf = `${CSV_COLUMNS.join(',')}\r\n`;
  for await (const e of events) {
    buf += `${CSV_COLUMNS.map((c) => csvField(e[c])).join(',')}\r\n`;
    if (buf.length >= CHUNK) {
      yield buf;
      buf = '';
    }
  }
  yield buf;
}

/** Text chunks of a JSON document `{"events":[…]}`, one event at a time. */
export async function* jsonChunks(events: AsyncIterable<AuditEvent>): AsyncIterable<string> {
  let buf = '{"events":[';
  let first = true;
  for await (const e of events) {
    buf += (first ? '' : ',') + JSON.stringify(e);
    first = false;
    if (buf.length >= CHUNK) {
      yield buf;
      buf = '';
    }
  }
  yield `${buf}]}`;
}

/** A byte stream for an HTTP body; pulling it reads the store page by page. */
export function toByteStream(chunks: AsyncIterable<string>): ReadableStream<Uint8Array> {
  const it = chunks[Symbol.asyncIterator]();
  const encoder = new TextEncoder();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next: IteratorResult<string> = await it.next();
      if (next.done === true) controller.close();
      else controller.enqueue(encoder.encode(next.value));
    },
    async cancel() {
      await it.return?.();
    },
  });
}
