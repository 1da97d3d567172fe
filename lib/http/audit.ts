import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import type { App } from '../app.js';
import { scopeOf } from '../audit/access.js';
import { explain, parseExplainRequest } from '../audit/explain.js';
import { csvChunks, jsonChunks, toByteStream } from '../audit/export.js';
import { parseAuditRequest } from '../audit/query.js';

const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * `GET api/manage/audit`: one page `{ value, continuationToken }` of matching events, oldest
 * first; with `format=csv|json` a download of every match, streamed page by page from the store.
 */
export async function handleAudit(app: App, request: HttpRequest): Promise<HttpResponseInit> {
  const viewer = await app.auditAccess.authenticate(request.headers.get('authorization'));
  const { query, page, format } = parseAuditRequest(new URLSearchParams(request.query));
  const scoped = { ...query, scope: scopeOf(viewer) };
  // Events recorded a moment ago are still on their way to the store.
  await app.audit.flush();
  if (format === 'page') {
    const r = await app.auditStore.query(scoped, page);
    return {
      status: 200,
      headers: { 'content-type': JSON_TYPE, 'cache-control': 'no-store' },
      jsonBody: { value: r.items, continuationToken: r.continuationToken },
    };
  }
  const events = app.auditStore.stream(scoped);
  const stamp = new Date().toISOString().slice(0, 19).replace(/[-:]/g, '');
  return {
    status: 200,
    headers: {
      'content-type': format === 'csv' ? 'text/csv; charset=utf-8' : JSON_TYPE,
      'content-disposition': `attachment; filename="audit-${stamp}.${format}"`,
      'cache-control': 'no-store',
    },
    body: toByteStream(format === 'csv' ? csvChunks(events) : jsonChunks(events)),
  };
}

/** `GET api/manage/explain?transactionId=|subject=|serial=|device=`: the timeline of attempts. */
export async function handleExplain(app: App, request: HttpRequest): Promise<HttpResponseInit> {
  const viewer = await app.auditAccess.authenticate(request.headers.get('authorization'));
  const query = parseExplainRequest(new URLSearchParams(request.query));
  // Events recorded a moment ago are still on their way to the store.
  await app.audit.flush();
  const r = await explain(app.auditStore, query, scopeOf(viewer));
  return { status: 200, headers: { 'content-type': JSON_TYPE, 'cache-control': 'no-store' }, jsonBody: r };
}
