import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';

/** An RS256 signing key as Entra publishes it: private half for minting, public JWK for the set. */
export interface TestSigningKey {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  readonly jwk: JWK;
}

export async function makeSigningKey(kid: string): Promise<TestSigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, use: 'sig', kty: 'RSA' };
  return { kid, privateKey, publicKey, jwk };
}

/**
 * A stand-in for `https://login.microsoftonline.com/{tenant}/discovery/v2.0/keys` on
 * 127.0.0.1 (random port). Keys can be rotated while it runs; it counts fetches, and can answer
 * with an error status or hang to exercise the validator's failure paths.
 */
export class FakeJwksServer {
  fetches = 0;
  private keys: JWK[] = [];
  private status = 200;
  private hang = false;
  private readonly server: Server;
  private url_ = '';

  private constructor() {
    this.server = createServer((req, res) => {
      this.fetches++;
      if (this.hang) return; // never answers: the client's timeout must fire
      if (req.method !== 'GET') {
        res.writeHead(405).end();
      } else if (this.status !== 200) {
        res.writeHead(this.status).end('{"error":"unavailable"}');
      } else {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: this.keys }));
      }
    });
  }

  /** The key set address, e.g. http://127.0.0.1:PORT/tenant/discovery/v2.0/keys. */
  get url(): string {
    return this.url_;
  }

  static async start(keys: readonly TestSigningKey[] = []): Promise<FakeJwksServer> {
    const self = new FakeJwksServer();
    await new Promise<void>((resolve) => self.server.listen(0, '127.0.0.1', resolve));
    const { port } = self.server.address() as AddressInfo;
    self.url_ = `http://127.0.0.1:${port}/tenant/discovery/v2.0/keys`;
    self.setKeys(keys);
    return self;
  }

  /** Replace the published set (key rotation). */
  setKeys(keys: readonly TestSigningKey[]): void {
    this.keys = keys.map((k) => k.jwk);
  }

  /** Answer every fetch with this HTTP status (200 restores normal service). */
  setStatus(status: number): void {
    this.status = status;
  }

  setHang(hang: boolean): void {
    this.hang = hang;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve, reject) => {
      this.server.close((e) => {
        if (e) reject(e);
        else resolve();
      });
    });
  }
}
