import { connect, type Socket } from 'node:net';

/**
 * A minimal HTTP/1.1 keep-alive POST client for load generation: one connection, one request at
 * a time, the request head written by hand and the response framed by its Content-Length.
 * Node's http.request spends about as much CPU per request as the server under test, which on
 * a small machine makes a benchmark measure its own client; this one costs a fraction of it
 * (the same idea as wrk or autocannon). A server that closes the connection (`Connection:
 * close`, or HTTP/1.0 without keep-alive) is reconnected to before the next request.
 */
export class KeepAliveClient {
  private socket: Socket | undefined;
  private buffered: Buffer = Buffer.alloc(0);
  private pending:
    { resolve: (r: { status: number; body: Buffer }) => void; reject: (e: Error) => void } | undefined;
  private readonly host: string;
  private readonly port: number;
  private readonly path: string;

  constructor(url: string) {
    const u = new URL(url);
    this.host = u.hostname;
    this.port = Number(u.port || 80);
    this.path = `${u.pathname}${u.search}`;
  }

  /** POST `body`; resolves with the status and the body bytes. */
  post(body: Uint8Array, contentType: string): Promise<{ status: number; body: Buffer }> {
    if (this.pending) return Promise.reject(new Error('one request at a time'));
    const socket = (this.socket ??= this.open());
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      const head =
        `POST ${this.path} HTTP/1.1\r\nHost: ${this.host}:${this.port}\r\nConnection: keep-alive\r\n` +
        `Content-Type: ${contentType}\r\nContent-Length: ${body.length}\r\n\r\n`;
      socket.write(Buffer.concat([Buffer.from(head, 'latin1'), body]));
    });
  }

  close(): void {
    this.socket?.destroy();
    this.socket = undefined;
  }

  private open(): Socket {
    const socket = connect(this.port, this.host);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
      this.parse();
    });
    const fail = (e: Error): void => {
      if (this.socket === socket) this.socket = undefined;
      this.buffered = Buffer.alloc(0);
      const p = this.pending;
      this.pending = undefined;
      p?.reject(e);
    };
    socket.on('error', fail);
    socket.on('close', () => {
      fail(new Error('connection closed'));
    });
    return socket;
  }

  private parse(): void {
    const end = this.buffered.indexOf('\r\n\r\n');
    if (end < 0) return;
    const head = this.buffered.subarray(0, end).toString('latin1');
    const status = Number(head.slice(9, 12));
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    if (!length) {
      this.socket?.destroy(new Error('response without Content-Length'));
      return;
    }
    const total = end + 4 + Number(length[1]);
    if (this.buffered.length < total) return;
    const body = Buffer.from(this.buffered.subarray(end + 4, total));
    this.buffered = this.buffered.subarray(total);
    const keepAlive = head.startsWith('HTTP/1.1')
      ? !/\r\nconnection:\s*close/i.test(head)
      : /\r\nconnection:\s*keep-alive/i.test(head);
    if (!keepAlive) {
      const s = this.socket;
      this.socket = undefined;
      this.buffered = Buffer.alloc(0);
      s?.removeAllListeners('close');
      s?.destroy();
    }
    const p = this.pending;
    this.pending = undefined;
    p?.resolve({ status, body });
  }
}
