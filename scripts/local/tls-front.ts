import { request, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { TLSSocket } from 'node:tls';

/**
 * The App Service front end, locally (`npm start` with `HTTPS_PORT`, and the tests): it
 * terminates TLS on 127.0.0.1, asks for an optional client certificate without checking it
 * (client certificate mode "Optional Interactive User"; the app decides what to trust), removes
 * any X-ARR-ClientCert the client sent, forwards the presented certificate in that header as
 * base64 DER, and proxies the request (method, path and query, headers, body) to the app over
 * plain HTTP. The app's status, headers and body are relayed unchanged.
 */
export interface FrontEnd {
  /** https://127.0.0.1:PORT */
  readonly url: string;
  close(): Promise<void>;
}

export interface FrontEndOptions {
  /** The app's base address, e.g. the local host's `baseUrl`. */
  readonly target: string;
  /** TLS server key and certificate (PEM). */
  readonly key: string | Buffer;
  readonly cert: string | Buffer;
  /** 0 (default) for any free port. */
  readonly port?: number;
}

export const CLIENT_CERT_HEADER = 'x-arr-clientcert';

/** RFC 9110 §7.6.1: connection-specific fields are not forwarded by a proxy. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

function endToEnd(headers: IncomingHttpHeaders, drop: readonly string[] = []): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || drop.includes(name)) continue;
    out[name] = value;
  }
  return out;
}

/** The certificate the client presented in the TLS handshake, DER, if any. */
function presentedCertificate(req: IncomingMessage): Buffer | undefined {
  if (!(req.socket instanceof TLSSocket)) return undefined;
  // getPeerCertificate() answers {} when the client presented no certificate.
  const raw: unknown = req.socket.getPeerCertificate().raw;
  return raw instanceof Buffer && raw.length > 0 ? raw : undefined;
}

export async function startFrontEnd(o: FrontEndOptions): Promise<FrontEnd> {
  const server: Server = createServer(
    { key: o.key, cert: o.cert, requestCert: true, rejectUnauthorized: false },
    (req, res) => {
      // Clients cannot set the header themselves: only the TLS handshake decides its value.
      const headers = endToEnd(req.headers, [CLIENT_CERT_HEADER]);
      const cert = presentedCertificate(req);
      if (cert) headers[CLIENT_CERT_HEADER] = cert.toString('base64');
      headers['x-forwarded-proto'] = 'https';
      if (req.socket.remoteAddress) headers['x-forwarded-for'] = req.socket.remoteAddress;
      const upstream = request(
        new URL(req.url ?? '/', o.target),
        { method: req.method ?? 'GET', headers, agent: false },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, endToEnd(answer.headers));
          answer.pipe(res);
        },
      );
      upstream.on('error', () => {
        if (res.headersSent) res.destroy();
        else res.writeHead(502, { 'content-type': 'text/plain' }).end('bad gateway');
      });
      req.pipe(upstream);
    },
  );
  // A port in use (EADDRINUSE) fails the start like the HTTP port does, not as an uncaught 'error'.
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve, reject) => {
        server.close((e) => {
          if (e) reject(e);
          else resolve();
        });
      });
    },
  };
}
