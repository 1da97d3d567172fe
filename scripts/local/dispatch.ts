import { randomUUID } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type * as Functions from '@azure/functions';
import type { registrations } from './functions-core.js';
import { LocalHttpRequest, LocalInvocationContext } from './invocation.js';
import { LocalNativeRequest } from './request.js';
import type { CompiledRoute } from './routes.js';

const MAX_BODY = 32 * 1024 * 1024;

/** One HTTP-triggered function as the local host routes to it. */
export interface HttpRoute {
  readonly reg: (typeof registrations)[number];
  readonly route: string;
  readonly methods: string[];
  readonly compiled: CompiledRoute;
}

type FunctionsTypes = Pick<typeof Functions, 'HttpResponse'>;

/**
 * The local host's request listener, in the role of the Functions host's HTTP front end: route
 * by the functions' own route templates and methods, hand the function a request and an
 * invocation context (./invocation.ts), and write what it returns. A failure no handler caught answers 500.
 */
export function dispatcher(
  http: readonly HttpRoute[],
  { HttpResponse }: FunctionsTypes,
  onFailure: (e: unknown) => void,
): RequestListener {
  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = (req.method ?? 'GET').toUpperCase();
    const found = findRoute(http, url.pathname, method);
    if (!found) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const body = await readAll(req);
    if (body === undefined) {
      res.writeHead(413, { 'content-type': 'text/plain' }).end('request body too large');
      return;
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
    const requestUrl = `http://${req.headers.host ?? '127.0.0.1'}${req.url ?? '/'}`;
    // See local/invocation.ts: HttpRequest's and InvocationContext's public surface, without
    // the library's per-object WeakMap entries.
    const request = new LocalHttpRequest(
      new LocalNativeRequest(requestUrl, method, headers, body.length > 0 ? body : undefined),
      found.params,
      url.searchParams,
    );
    const context = new LocalInvocationContext(found.entry.reg.metadata.name, randomUUID());
    const result = await found.entry.reg.handler(request, context);
    if (writePlain(res, result)) return;
    if (await writeStream(res, result)) return;
    const response =
      result instanceof HttpResponse
        ? result
        : new HttpResponse(result as ConstructorParameters<typeof HttpResponse>[0]);
    const out = Buffer.from(await response.arrayBuffer());
    const outHeaders: Record<string, string> = {};
    response.headers.forEach((v, k) => {
      outHeaders[k] = v;
    });
    res.writeHead(response.status, outHeaders).end(out);
  }

  return (req, res) => {
    void serve(req, res).catch((e: unknown) => {
      onFailure(e);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('internal error');
    });
  };
}

/**
 * The common case without a web Response round trip: an HttpResponseInit whose body is bytes,
 * a string or JSON, and whose headers are a plain object. Anything else (HttpResponse objects,
 * streams, cookies, Headers instances) goes through @azure/functions' own conversion.
 */
function writePlain(res: ServerResponse, result: unknown): boolean {
  if (typeof result !== 'object' || result === null) return false;
  const r = result as {
    status?: unknown;
    headers?: unknown;
    body?: unknown;
    jsonBody?: unknown;
    cookies?: unknown;
  };
  if (r.cookies !== undefined) return false;
  if (
    r.headers !== undefined &&
    (typeof r.headers !== 'object' ||
      r.headers === null ||
      r.headers instanceof Headers ||
      Array.isArray(r.headers))
  )
    return false;
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries((r.headers ?? {}) as Record<string, unknown>)) {
    if (typeof v !== 'string') return false;
    headers[k.toLowerCase()] = v;
  }
  let body: Uint8Array | string;
  if (r.jsonBody !== undefined) {
    body = JSON.stringify(r.jsonBody);
    headers['content-type'] ??= 'application/json';
  } else if (r.body === undefined || r.body === null) {
    body = '';
  } else if (typeof r.body === 'string' || r.body instanceof Uint8Array) {
    body = r.body;
    if (typeof r.body === 'string') headers['content-type'] ??= 'text/plain;charset=UTF-8';
  } else {
    return false;
  }
  // A known length, as the Functions host sends: no chunked framing around a body we hold whole.
  const status = typeof r.status === 'number' ? r.status : 200;
  if (status !== 204 && status !== 304)
    headers['content-length'] ??= String(typeof body === 'string' ? Buffer.byteLength(body) : body.length);
  res.writeHead(status, headers).end(body);
  return true;
}

/** A plain HttpResponseInit whose body is a web ReadableStream (downloads): piped, never buffered. */
async function writeStream(res: ServerResponse, result: unknown): Promise<boolean> {
  if (typeof result !== 'object' || result === null) return false;
  const r = result as { status?: unknown; headers?: unknown; body?: unknown };
  if (!(r.body instanceof ReadableStream)) return false;
  const headers = (r.headers ?? {}) as Record<string, string>;
  res.writeHead(typeof r.status === 'number' ? r.status : 200, headers);
  try {
    await pipeline(Readable.fromWeb(r.body as import('node:stream/web').ReadableStream<Uint8Array>), res);
  } catch {
    res.destroy();
  }
  return true;
}

function findRoute<T extends { methods: string[]; compiled: CompiledRoute }>(
  routes: readonly T[],
  path: string,
  method: string,
): { entry: T; params: Record<string, string> } | undefined {
  for (const entry of routes) {
    const params = entry.compiled.match(path);
    if (params && (entry.methods.length === 0 || entry.methods.includes(method))) return { entry, params };
  }
  return undefined;
}

async function readAll(req: IncomingMessage): Promise<Buffer | undefined> {
  // Stream events rather than an async iterator: one request's worth of promises and
  // listeners less on every request (most bodies arrive in a single chunk, GETs in none).
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    req.on('data', (c: Buffer) => {
      total += c.length;
      if (total > MAX_BODY) {
        req.removeAllListeners('data');
        req.resume();
        resolveBody(undefined);
        return;
      }
      chunks.push(c);
    });
    req.once('end', () => {
      resolveBody(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
    });
    req.once('error', reject);
  });
}
