import { createServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeepAliveClient } from '../../scripts/local/keep-alive-client.js';
import { startTestHost, type TestHost } from '../helpers/host.js';

/**
 * Responses of the local host carry their length (as the Functions host's do), so a keep-alive
 * client reads them without chunked framing; the benchmarks' keep-alive client relies on it.
 */

let host: TestHost;
beforeAll(async () => {
  host = await startTestHost();
});
afterAll(async () => {
  await host.close();
});

describe('local host response framing', () => {
  it('ok/a buffered response carries Content-Length, not chunked transfer encoding', async () => {
    const res = await fetch(`${host.baseUrl}/ocsp`, {
      method: 'POST',
      headers: { 'content-type': 'application/ocsp-request' },
      body: new Uint8Array([0x30, 0x00]),
    });
    const body = new Uint8Array(await res.arrayBuffer());
    expect(res.status).toBe(200);
    expect(res.headers.get('transfer-encoding')).toBeNull();
    expect(res.headers.get('content-length')).toBe(String(body.length));
  });

  it('ok/the keep-alive client reuses one connection for many requests', async () => {
    const client = new KeepAliveClient(`${host.baseUrl}/ocsp`);
    try {
      for (let i = 0; i < 5; i++) {
        const res = await client.post(new Uint8Array([0x30, 0x00]), 'application/ocsp-request');
        expect(res.status).toBe(200);
        // OCSPResponse { responseStatus malformedRequest (1) }
        expect([...res.body]).toEqual([0x30, 0x03, 0x0a, 0x01, 0x01]);
      }
    } finally {
      client.close();
    }
  });

  it('ok/the keep-alive client reconnects after a server closes the connection', async () => {
    let connections = 0;
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { connection: 'close', 'content-length': '2' }).end('ok');
      });
    });
    server.on('connection', () => connections++);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const client = new KeepAliveClient(`http://127.0.0.1:${port}/`);
    try {
      for (let i = 0; i < 3; i++) {
        const res = await client.post(new Uint8Array([1]), 'application/octet-stream');
        expect(res.body.toString()).toBe('ok');
      }
      expect(connections).toBe(3);
    } finally {
      client.close();
      await new Promise((r) => server.close(r));
    }
  });
});
