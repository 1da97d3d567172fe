/**
 * A recording reverse proxy on 127.0.0.1:0 between a real SCEP client and the local host. It
 * changes nothing; it keeps every exchange so a test can state what the client sent (method,
 * messageType, cipher) and what the server answered, and print both when a client fails.
 */
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describePkiMessage, summarizePkiMessage, type PkiMessageSummary } from './pkimessage.js';

const MAX_BODY = 1024 * 1024;

export interface Exchange {
  method: string;
  path: string;
  operation: string;
  requestContentType: string | undefined;
  /** PKIOperation: the pkiMessage DER (POST body, or the decoded GET `message`); else the body. */
  request: Buffer;
  status: number;
  responseContentType: string | undefined;
  response: Buffer;
}

export interface Recorder {
  /** http://127.0.0.1:<port>, forwarding every path to the upstream. */
  readonly baseUrl: string;
  readonly exchanges: readonly Exchange[];
  /** Exchanges recorded after `mark` (a previous `exchanges.length`). */
  since(mark: number): Exchange[];
  close(): Promise<void>;
}

/** SCEP GET `message`: standard or URL-safe base64, `+` possibly turned into a space. */
function decodeGetMessage(value: string): Buffer {
  return Buffer.from(value.replace(/ /g, '+').replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

function readBody(stream: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    stream.on('end', () => {
      resolve(Buffer.concat(chunks));
    });
    stream.on('error', reject);
  });
}

export async function startRecorder(upstreamBaseUrl: string): Promise<Recorder> {
  const upstream = new URL(upstreamBaseUrl);
  const exchanges: Exchange[] = [];
  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const url = new URL(req.url ?? '/', 'http://recorder');
      const operation = url.searchParams.get('operation') ?? '';
      const message = url.searchParams.get('message');
      const pkiGet = operation === 'PKIOperation' && req.method === 'GET' && message !== null;
      const headers: IncomingHttpHeaders = { ...req.headers, host: upstream.host };
      const up = request(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers },
        (upRes) => {
          void readBody(upRes).then((response) => {
            exchanges.push({
              method: req.method ?? '?',
              path: url.pathname,
              operation,
              requestContentType: req.headers['content-type'],
              request: pkiGet ? decodeGetMessage(message) : body,
              status: upRes.statusCode ?? 0,
              responseContentType: upRes.headers['content-type'],
              response,
            });
            const out = { ...upRes.headers };
            delete out['transfer-encoding'];
            out['content-length'] = String(response.length);
            res.writeHead(upRes.statusCode ?? 502, out);
            res.end(response);
          });
        },
      );
      up.on('error', (e) => {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`recorder: upstream error: ${e.message}`);
      });
      up.end(body);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    exchanges,
    since: (mark) => exchanges.slice(mark),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}

export interface PkiExchange {
  exchange: Exchange;
  request: PkiMessageSummary;
  reply: PkiMessageSummary | undefined;
}

/** The PKIOperation exchanges, decoded; a reply that is not a pkiMessage is `undefined`. */
export function pkiExchanges(list: readonly Exchange[]): PkiExchange[] {
  return list
    .filter((e) => e.operation === 'PKIOperation')
    .map((exchange) => {
      let reply: PkiMessageSummary | undefined;
      try {
        reply = exchange.status === 200 ? summarizePkiMessage(exchange.response) : undefined;
      } catch {
        reply = undefined;
      }
      return { exchange, request: summarizePkiMessage(exchange.request), reply };
    });
}

/** A readable transcript for failure messages. */
export function transcript(list: readonly Exchange[]): string {
  return list
    .map((e) => {
      const head = `${e.method} ${e.path}?operation=${e.operation} -> ${e.status} ${e.responseContentType ?? '-'}`;
      if (e.operation === 'GetCACaps')
        return `${head}: ${e.response.toString('utf8').replace(/\r?\n/g, ' ')}`;
      if (e.operation !== 'PKIOperation') return `${head} (${e.response.length} bytes)`;
      const read = (b: Buffer): string => {
        try {
          return describePkiMessage(summarizePkiMessage(b));
        } catch (err) {
          const text = b.toString('utf8', 0, 200).replace(/[^\x20-\x7e]/g, '.');
          return `(not a pkiMessage: ${String(err)}; ${b.length} bytes: ${text})`;
        }
      };
      return `${head}\n    sent:  ${read(e.request)}\n    reply: ${read(e.response)}`;
    })
    .join('\n');
}
