import { clampLimit } from './cosmos-query.js';
import type { CertificateQuery } from './types.js';

/**
 * The certificate search in SQL: the same filters and order (newest first) as the other
 * stores, every value a bound parameter. Order is (created_at, serial) descending — serial
 * breaks ties — and a page starts strictly after the last row of the previous one (`after` =
 * [createdAt, serial]), so it reads one index range however deep the page is. One row more
 * than `limit` is read to know whether a next page exists.
 */
export function certificateSearch(
  query: CertificateQuery,
  after: readonly string[] | undefined,
  /**
   * The subject prefix matches many rows (BROAD_PREFIX or more): walk the creation-order index
   * (it holds the subject) and stop at a page, instead of sorting every match. SQLite's planner
   * cannot tell a broad range from a narrow one without sampled statistics.
   */
  broadPrefix = false,
): { sql: string; params: Record<string, string | number>; limit: number } {
  const where: string[] = [];
  const params: Record<string, string | number> = {};
  const add: AddFilter = (clause, name, value) => {
    where.push(clause);
    params[name] = value;
  };
  columnFilters(query, add);
  recordFilters(query, add);
  if (after) {
    const [createdAt = '', serial = ''] = after;
    where.push('(created_at < @afterCreated OR (created_at = @afterCreated AND serial < @afterSerial))');
    params.afterCreated = createdAt;
    params.afterSerial = serial;
  }
  const limit = clampLimit(query.limit);
  params.take = limit + 1;
  const filter = where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '';
  return {
    // The page's rows are found on the indexes alone (each holds created_at, serial and what it
    // filters on); only then are the page's records read from the table.
    sql: `SELECT serial, created_at, record, etag FROM certificates WHERE rowid IN
            (SELECT rowid FROM certificates${broadPrefix ? ' INDEXED BY certificates_created' : ''}${filter}
             ORDER BY created_at DESC, serial DESC LIMIT @take)
          ORDER BY created_at DESC, serial DESC`,
    params,
    limit,
  };
}

type AddFilter = (clause: string, name: string, value: string) => void;

/** Filters on the endpoint, status, notification state and subject columns. */
function columnFilters(query: CertificateQuery, add: AddFilter): void {
  if (query.endpoint !== undefined) add('endpoint = @endpoint', 'endpoint', query.endpoint);
  if (query.status !== undefined) add('status = @status', 'status', query.status);
  if (query.notificationState !== undefined) {
    add('notification_state = @notificationState', 'notificationState', query.notificationState);
  }
  if (query.subjectContains !== undefined)
    add('instr(subject, @contains) > 0', 'contains', query.subjectContains);
  if (query.subjectPrefix !== undefined) {
    // A range on the subject index: every string that starts with the prefix sorts in
    // [prefix, prefix + U+10FFFF) under SQLite's binary (UTF-8 byte) collation.
    const range = prefixRange(query.subjectPrefix);
    add('subject >= @prefix', 'prefix', range.prefix);
    add('subject < @prefixEnd', 'prefixEnd', range.prefixEnd);
  }
}

/** The serial, fields inside the stored record (JSON), and the creation-time bounds. */
function recordFilters(query: CertificateQuery, add: AddFilter): void {
  const field = (name: string): string => `json_extract(record, '$.${name}')`;
  const anySan = (param: string): string =>
    `EXISTS (SELECT 1 FROM json_each(record, '$.sans') WHERE instr(value, @${param}) > 0)`;
  if (query.serialNumber !== undefined) add('serial = @serial', 'serial', query.serialNumber);
  if (query.thumbprint !== undefined) {
    add(
      `(${field('thumbprintSha1')} = @thumb OR ${field('thumbprintSha256')} = @thumb)`,
      'thumb',
      query.thumbprint,
    );
  }
  if (query.sanContains !== undefined) add(anySan('san'), 'san', query.sanContains);
  if (query.accountId !== undefined) add(`${field('accountId')} = @accountId`, 'accountId', query.accountId);
  if (query.organization !== undefined) {
    add(`${field('organization')} = @organization`, 'organization', query.organization);
  }
  if (query.department !== undefined)
    add(`${field('department')} = @department`, 'department', query.department);
  if (query.expiringBefore !== undefined) {
    add(`${field('notAfter')} < @expiringBefore`, 'expiringBefore', query.expiringBefore);
  }
  if (query.text !== undefined) {
    add(
      `(instr(subject, @text) > 0 OR serial = lower(@text) OR ${field('thumbprintSha1')} = upper(@text)
        OR ${field('thumbprintSha256')} = upper(@text) OR ${anySan('text')})`,
      'text',
      query.text,
    );
  }
  if (query.issuedAfter !== undefined) add('created_at >= @issuedAfter', 'issuedAfter', query.issuedAfter);
  if (query.issuedBefore !== undefined) add('created_at < @issuedBefore', 'issuedBefore', query.issuedBefore);
}

/** How many subject-prefix matches make a prefix broad (see certificateSearch). */
export const BROAD_PREFIX = 1000;

/** Counts the prefix's matches on the subject index, up to BROAD_PREFIX. */
export const PREFIX_MATCHES = `SELECT count(*) AS n FROM
  (SELECT 1 FROM certificates WHERE subject >= @prefix AND subject < @prefixEnd LIMIT ${BROAD_PREFIX})`;

export const prefixRange = (prefix: string): { prefix: string; prefixEnd: string } => ({
  prefix,
  prefixEnd: `${prefix}\u{10FFFF}`,
});
