import { type IncomingMessage, type Server, type ServerResponse, createServer, request } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * An HTTP proxy on 127.0.0.1 between a client and a (Cosmos-compatible) server that injects
 * faults into the requests a rule matches:
 *
 * - `reset`: the connection is dropped before the request reaches the server (server down).
 * - `throttle`: 429 with `x-ms-retry-after-ms`, not forwarded (request rate too large).
 * - `unavailable-after-forward`: the server handles the request (a write lands), the client
 *   gets 503 instead of the answer: the outcome is unknown to the client.
 * - `reset-after-forward`: the server handles the request, the connection is then dropped.
 * - `hang`: never answered (until close()).
 */
export type FaultAction =
  | { readonly kind: 'reset' }
  | { readonly kind: 'throttle'; readonly retryAfterMs: number }
  | { readonly kind: 'unavailable-after-forward' }
  | { readonly kind: 'reset-after-forward' }
  | { readonly kind: 'hang' };

export interface ProxiedRequest {
  readonly method: string;
  /** Path without the query, leading double slash collapsed. */
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
}

export interface FaultRule {
  readonly match: (req: ProxiedRequest) => boolean;
  readonly action: FaultAction;
  /** How many matching requests get the fault; default: all. */
  times?: number;
}

export interface FaultProxy {
  readonly endpoint: string;
  /** Replace the active rules (first matching rule wins). */
  setFaults(...rules: FaultRule[]): void;
  /** Every request seen, with the fault applied if any. */
  readonly log: { readonly req: ProxiedRequest; readonly fault?: FaultAction['kind'] }[];
  close(): Promise<void>;
}

/** A document write (create/upsert) in container `container`. */
export const writesTo =
  (container: string) =>
  (r: ProxiedRequest): boolean =>
    r.method === 'POST' &&
    r.path.endsWith(`/colls/${container}/docs`) &&
    String(r.headers['x-ms-documentdb-isquery']).toLowerCase() !== 'true' &&
    r.headers['content-type'] !== 'application/query+json';

/** A point read in container `container`. */
export const readsFrom =
  (container: string) =>
  (r: ProxiedRequest): boolean =>
    r.method === 'GET' && r.path.includes(`/colls/${container}/docs/`);

export const queries = (r: ProxiedRequest): boolean =>
  r.method === 'POST' &&
  (String(r.headers['x-ms-documentdb-isquery']).toLowerCase() === 'true' ||
    r.headers['content-type'] === 'application/query+json');

export const anyRequest = (): boolean => true;

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  let rules: FaultRule[] = [];
  const log: FaultProxy['log'] = [];
  const sockets = new Set<Socket>();
  const hanging = new Set<ServerResponse>();

  const forward = (
    req: IncomingMessage,
    body: Buffer,
  ): Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer }> =>
    new Promise((resolve, reject) => {
      const out = request(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: upstream.host, connection: 'close' },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) });
          });
          res.on('error', reject);
        },
      );
      out.on('error', reject);
      out.end(body);
    });

  const json = (res: ServerResponse, status: number, headers: Record<string, string>, body: object): void => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const seen: ProxiedRequest = {
          method: req.method ?? 'GET',
          path: (req.url ?? '/').split('?')[0]!.replace(/^\/\/+/, '/'),
          headers: req.headers,
        };
        const rule = rules.find((r) => (r.times === undefined || r.times > 0) && r.match(seen));
        if (rule?.times !== undefined) rule.times -= 1;
        const action = rule?.action;
        log.push(action ? { req: seen, fault: action.kind } : { req: seen });
        const body = Buffer.concat(chunks);
        try {
          switch (action?.kind) {
            case 'reset':
              req.socket.destroy();
              return;
            case 'throttle':
              json(
                res,
                429,
                { 'x-ms-retry-after-ms': String(action.retryAfterMs) },
                { code: 'TooManyRequests', message: 'Request rate is large' },
              );
              return;
            case 'hang':
              hanging.add(res);
              return;
            case 'unavailable-after-forward':
              await forward(req, body);
              json(res, 503, {}, { code: 'ServiceUnavailable', message: 'Service is currently unavailable' });
              return;
            case 'reset-after-forward':
              await forward(req, body);
              req.socket.destroy();
              return;
            case undefined: {
              const answer = await forward(req, body);
              const headers = { ...answer.headers };
              delete headers['transfer-encoding'];
              delete headers['content-length'];
              res.writeHead(answer.status, headers);
              res.end(answer.body);
              return;
            }
          }
        } catch {
          req.socket.destroy();
        }
      })();
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}/`,
    log,
    setFaults(...next) {
      rules = next;
    },
    async close() {
      for (const res of hanging) res.socket?.destroy();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      );
    },
  };
}
