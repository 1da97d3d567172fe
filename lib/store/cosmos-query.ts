import type { SqlParameter, SqlQuerySpec } from '@azure/cosmos';
import type { CertificateQuery } from './types.js';

export const DEFAULT_SEARCH_LIMIT = 100;
export const MAX_SEARCH_LIMIT = 1000;

export function clampLimit(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return DEFAULT_SEARCH_LIMIT;
  return Math.min(MAX_SEARCH_LIMIT, Math.max(1, Math.floor(limit)));
}

/**
 * The management search / notification re-drive query. Every filter is a parameter (never
 * spliced into the text) and touches only an indexed path (CERTIFICATES_INDEXING_POLICY);
 * newest first. Paging is by continuation token: no OFFSET/LIMIT, whose cost grows with the
 * offset. The same filters and order as MemoryCertificateStore.search.
 */
export function buildSearchQuery(query: CertificateQuery): SqlQuerySpec {
  const where: string[] = [];
  const parameters: SqlParameter[] = [];
  const add = (clause: string, name: string, value: string): void => {
    where.push(clause.replaceAll('@p', name));
    parameters.push({ name, value });
  };
  if (query.endpoint !== undefined) add('c.endpoint = @p', '@endpoint', query.endpoint);
  if (query.status !== undefined) add('c.status = @p', '@status', query.status);
  if (query.notificationState !== undefined) {
    add('c.notification.state = @p', '@notificationState', query.notificationState);
  }
  if (query.subjectContains !== undefined) add('CONTAINS(c.subject, @p)', '@subject', query.subjectContains);
  if (query.subjectPrefix !== undefined)
    add('STARTSWITH(c.subject, @p)', '@subjectPrefix', query.subjectPrefix);
  if (query.serialNumber !== undefined) add('c.serialNumber = @p', '@serial', query.serialNumber);
  if (query.thumbprint !== undefined) {
    add('(c.thumbprintSha1 = @p OR c.thumbprintSha256 = @p)', '@thumbprint', query.thumbprint);
  }
  if (query.sanContains !== undefined) {
    add('EXISTS(SELECT VALUE s FROM s IN c.sans WHERE CONTAINS(s, @p))', '@san', query.sanContains);
  }
  if (query.accountId !== undefined) add('c.accountId = @p', '@accountId', query.accountId);
  if (query.organization !== undefined) add('c.organization = @p', '@organization', query.organization);
  if (query.department !== undefined) add('c.department = @p', '@department', query.department);
  if (query.expiringBefore !== undefined) add('c.notAfter < @p', '@expiringBefore', query.expiringBefore);
  if (query.text !== undefined) {
    add(
      '(CONTAINS(c.subject, @p) OR c.serialNumber = LOWER(@p) OR c.thumbprintSha1 = UPPER(@p) OR c.thumbprintSha256 = UPPER(@p) OR EXISTS(SELECT VALUE s FROM s IN c.sans WHERE CONTAINS(s, @p)))',
      '@text',
      query.text,
    );
  }
  if (query.issuedAfter !== undefined) add('c.createdAt >= @p', '@issuedAfter', query.issuedAfter);
  if (query.issuedBefore !== undefined) add('c.createdAt < @p', '@issuedBefore', query.issuedBefore);
  const filter = where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '';
  return { query: `SELECT * FROM c${filter} ORDER BY c.createdAt DESC`, parameters };
}

const TOKEN_PREFIX = 'c1.';

/** Continuation tokens leave the store URL-safe and marked, so a foreign token is refused up front. */
export function encodeContinuation(cosmosToken: string): string {
  return TOKEN_PREFIX + Buffer.from(cosmosToken, 'utf8').toString('base64url');
}

/** The Cosmos DB token inside one of ours, or undefined when `token` is not ours. */
export function decodeContinuation(token: string): string | undefined {
  if (!token.startsWith(TOKEN_PREFIX)) return undefined;
  const body = token.slice(TOKEN_PREFIX.length);
  if (!/^[A-Za-z0-9_-]+$/.test(body)) return undefined;
  return Buffer.from(body, 'base64url').toString('utf8');
}
