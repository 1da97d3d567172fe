import type { HttpHandler, HttpMethod, HttpRequest, HttpResponseInit } from '@azure/functions';
import type { App } from '../app.js';
import type { ManageApi } from '../admin/index.js';
import type { CertificateFile } from '../admin/cert-file.js';
import type { Page, PageRequest, Versioned } from '../admin/paging.js';
import type { Actor } from '../admin/roles.js';
import { AppError, badRequest } from '../errors.js';
import { readBody } from './body.js';
import { invalid } from '../model/problems.js';
import { problemResponse } from './errors.js';
import { httpHandler } from './handler.js';

/**
 * The management API's HTTP adapter (`api/manage/...`): authenticate, then map one route's
 * methods to use cases in lib/admin. JSON in and out; errors as RFC 9457 problem+json; lists
 * as `{ value, continuationToken }` with `?top=&continuationToken=`; reads carry an `ETag`,
 * and PATCH (a JSON merge patch, RFC 7396), PUT and DELETE honour `If-Match` (RFC 9110
 * §13.1.1: 412 when it names another version).
 */
export interface ManageCall {
  /** The whole App, for routes that act beyond the management use cases (revocation). */
  readonly app: App;
  readonly manage: ManageApi;
  readonly request: HttpRequest;
  readonly actor: Actor;
  readonly page: PageRequest;
  /** The version named by If-Match, undefined when absent or `*`. */
  readonly ifMatch: string | undefined;
}

const MAX_BODY = 64 * 1024;

/**
 * The methods every management route is declared for (functions/manage*.ts). The Functions host
 * answers a method its function does not declare with its own plain-text 404 before any of our
 * code runs, so each route takes them all and answers one it does not serve itself: 405 with
 * `Allow` (RFC 9110 §15.5.6) and a problem body.
 */
export const MANAGE_METHODS: HttpMethod[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

export const methodNotAllowed = (method: string, allow: readonly string[]): AppError =>
  new AppError('METHOD_NOT_ALLOWED', `${method} is not allowed here`, {
    detail: { allow: allow.join(', ') },
  });

/** METHOD_NOT_ALLOWED (405) unless the request's method is one of `allow`. */
export function requireMethod(request: HttpRequest, allow: readonly string[]): void {
  const method = request.method.toUpperCase();
  if (!allow.includes(method)) throw methodNotAllowed(method, allow);
}

/** `allow`: the methods the route serves, when it does not answer 405 itself (serveResource). */
export function manageHandler(
  fn: (call: ManageCall) => Promise<HttpResponseInit>,
  allow?: readonly string[],
): HttpHandler {
  return httpHandler(async (app: App, request) => {
    if (allow) requireMethod(request, allow);
    const actor = await app.admin.auth.authenticate(request.headers.get('authorization'));
    return fn({
      app,
      manage: app.admin,
      request,
      actor,
      page: pageRequest(request),
      ifMatch: ifMatch(request),
    });
  }, problemResponse);
}

export function pageRequest(request: HttpRequest): PageRequest {
  const top = request.query.get('top');
  const token = request.query.get('continuationToken');
  if (top !== null && !/^\d{1,4}$/.test(top)) {
    throw invalid('page request', ['top: expected a whole number from 1 to 1000']);
  }
  return {
    ...(top !== null ? { top: Math.max(1, Math.min(1000, Number(top))) } : {}),
    ...(token !== null && token !== '' ? { continuationToken: token } : {}),
  };
}

/** `If-Match: "etag"` (or W/"etag") → etag; `*` or absent → undefined. */
function ifMatch(request: HttpRequest): string | undefined {
  const v = request.headers.get('if-match')?.trim();
  if (v === undefined || v === '' || v === '*') return undefined;
  const m = /^(?:W\/)?"([^"]*)"$/.exec(v);
  if (!m) throw badRequest('If-Match must be one entity tag, e.g. "abc"');
  return m[1];
}

/** The query string as a plain object, minus paging parameters. */
export function queryFilters(request: HttpRequest): Record<string, string> {
  const out: Record<string, string> = {};
  request.query.forEach((v, k) => {
    if (k !== 'top' && k !== 'continuationToken') out[k] = v;
  });
  return out;
}

/** A request body as sent (certificates: PEM, DER or PKCS#7), up to the management API's cap. */
export const bytesBody = (request: HttpRequest): Promise<Uint8Array> => readBody(request, MAX_BODY);

/** A JSON request body (application/json, or application/merge-patch+json for PATCH). */
export async function jsonBody(request: HttpRequest): Promise<unknown> {
  const type = (request.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  const bytes = await readBody(request, MAX_BODY);
  if (bytes.length === 0) return {};
  if (type !== '' && type !== 'application/json' && type !== 'application/merge-patch+json') {
    throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'send application/json');
  }
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8')) as unknown;
  } catch {
    throw badRequest('the body is not valid JSON');
  }
}

const JSON_TYPE = 'application/json; charset=utf-8';

export function versioned<T>(v: Versioned<T>, status = 200, location?: string): HttpResponseInit {
  const headers: Record<string, string> = { 'content-type': JSON_TYPE, 'cache-control': 'no-store' };
  if (v.etag !== undefined) headers.etag = `"${v.etag}"`;
  if (location !== undefined) headers.location = location;
  return { status, headers, jsonBody: v.value };
}

export function paged<T>(p: Page<T>): HttpResponseInit {
  return {
    status: 200,
    headers: { 'content-type': JSON_TYPE, 'cache-control': 'no-store' },
    jsonBody: { value: p.value, continuationToken: p.continuationToken ?? null },
  };
}

/** One route's operations; `id` is the last route parameter (absent on the collection). */
export interface Resource {
  list?: () => Promise<Page<unknown>>;
  get?: (id: string) => Promise<Versioned<unknown>>;
  /** `location`: the new resource's path under api/manage/, when it differs from `<collection>/<name or id>`. */
  create?: (body: unknown) => Promise<Versioned<unknown> & { readonly location?: string }>;
  update?: (id: string, patch: unknown) => Promise<Versioned<unknown>>;
  put?: (id: string, body: unknown) => Promise<Versioned<unknown>>;
  delete?: (id: string) => Promise<void>;
}

function locationOf(collection: string, value: unknown): string | undefined {
  const v = value as { name?: unknown; id?: unknown };
  const key = typeof v.name === 'string' ? v.name : v.id;
  return typeof key === 'string' ? `${collection}/${encodeURIComponent(key)}` : undefined;
}

/** Collection: GET list, POST create (201). Item: GET, PATCH, PUT, DELETE (204). */
export async function serveResource(
  call: ManageCall,
  id: string | undefined,
  r: Resource,
): Promise<HttpResponseInit> {
  const method = call.request.method.toUpperCase();
  const path = new URL(call.request.url).pathname.replace(/\/+$/, '');
  if (id === undefined || id === '') {
    if (method === 'GET' && r.list) return paged(await r.list());
    if (method === 'POST' && r.create) {
      const created = await r.create(await jsonBody(call.request));
      return versioned(created, 201, created.location ?? locationOf(path, created.value));
    }
  } else {
    if (method === 'GET' && r.get) return versioned(await r.get(id));
    if (method === 'PATCH' && r.update) return versioned(await r.update(id, await jsonBody(call.request)));
    if (method === 'PUT' && r.put) return versioned(await r.put(id, await jsonBody(call.request)));
    if (method === 'DELETE' && r.delete) {
      await r.delete(id);
      return { status: 204 };
    }
  }
  throw methodNotAllowed(method, servedMethods(r, id === undefined || id === ''));
}

function servedMethods(r: Resource, collection: boolean): string[] {
  const served: [boolean, string][] = collection
    ? [
        [r.list !== undefined, 'GET'],
        [r.create !== undefined, 'POST'],
      ]
    : [
        [r.get !== undefined, 'GET'],
        [r.update !== undefined, 'PATCH'],
        [r.put !== undefined, 'PUT'],
        [r.delete !== undefined, 'DELETE'],
      ];
  return served.filter(([yes]) => yes).map(([, m]) => m);
}

/** A certificate download (`?format=pem` for PEM, else DER) as an attachment. */
export function fileResponse(file: CertificateFile): HttpResponseInit {
  return {
    status: 200,
    headers: {
      'content-type': file.contentType,
      'content-disposition': `attachment; filename="${file.fileName}"`,
    },
    body: file.body,
  };
}

export const downloadFormat = (request: HttpRequest): 'der' | 'pem' =>
  request.query.get('format') === 'pem' ? 'pem' : 'der';
