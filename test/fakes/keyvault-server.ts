import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AccessToken, TokenCredential } from '@azure/identity';
import type { KeyVaultSettings } from '../../lib/config/keyvault.js';
import type { VaultClientOptions } from '../../lib/keys/keyvault.js';
import { initRootCa } from '../../lib/keys/keyvault-bootstrap.js';
import { silentLogger } from '../../lib/log.js';
import { vaultContext } from '../../lib/keys/keyvault-ca.js';
import { HttpError, VaultModel, type FakeKeyOptions } from './keyvault-model.js';

export type { FakeKeyOptions } from './keyvault-model.js';

/**
 * A local Key Vault that speaks the REST shapes @azure/keyvault-keys and
 * @azure/keyvault-certificates use (api-version 2025-07-01), on 127.0.0.1, plain HTTP:
 * the bearer challenge (first request of each client without a token → 401 + WWW-Authenticate),
 * keys (get, create, sign, decrypt, unwrapkey with key_ops enforcement), and certificates
 * (create with issuer Unknown → pending with a CSR, get pending, merge, get), and secrets (get).
 * Tests script faults per operation (429 + Retry-After, 500, delays) and read how many
 * operations each name received. Drive it only through the real SDK clients.
 */
export type FakeOperation =
  | 'getKey'
  | 'createKey'
  | 'sign'
  | 'decrypt'
  | 'unwrapKey'
  | 'createCertificate'
  | 'getCertificate'
  | 'getPendingCertificate'
  | 'mergeCertificate'
  | 'getSecret';

export interface Fault {
  readonly status?: number;
  readonly code?: string;
  readonly retryAfter?: string;
  /** Hold the answer this long (ms) before answering (with `status`, or normally). */
  readonly delayMs?: number;
  /** How many requests this fault applies to (default 1; Infinity = all). */
  times?: number;
  /** Let this many matching requests through before the fault applies (default 0). */
  skip?: number;
}

type Answer = [status: number, body: unknown];

export const FAKE_TOKEN = 'fake-key-vault-token';
const TENANT = '11111111-1111-1111-1111-111111111111';
export class FakeKeyVault {
  readonly url: string;
  /** Requests answered 401 with a bearer challenge (not counted as operations). */
  challenges = 0;
  /** Scopes the credential was asked for. */
  readonly tokenScopes: string[] = [];
  readonly credential: TokenCredential;
  readonly clientOptions: VaultClientOptions = {
    allowInsecureConnection: true,
    disableChallengeResourceVerification: true,
  };
  private readonly model: VaultModel;
  private readonly opCounts = new Map<string, number>();
  private faults: { op: FakeOperation | '*'; fault: Fault }[] = [];
  /** name → versions, latest last. */
  private readonly secrets = new Map<string, { version: string; value: string }[]>();

  constructor(
    private readonly server: Server,
    port: number,
  ) {
    this.url = `http://127.0.0.1:${port}`;
    this.model = new VaultModel(this.url);
    this.credential = {
      getToken: (scopes: string | string[]): Promise<AccessToken> => {
        this.tokenScopes.push(...(Array.isArray(scopes) ? scopes : [scopes]));
        return Promise.resolve({ token: FAKE_TOKEN, expiresOnTimestamp: Date.now() + 3_600_000 });
      },
    };
  }

  count(op: FakeOperation): number {
    return this.opCounts.get(op) ?? 0;
  }
  counts(): Record<string, number> {
    return Object.fromEntries([...this.opCounts].filter(([k]) => !k.includes('@')));
  }
  /** Cryptographic operations (sign, decrypt, unwrapKey) on the key `name`, any version. */
  keyOperations(name: string): number {
    return (['sign', 'decrypt', 'unwrapKey'] as const).reduce(
      (n, op) => n + (this.opCounts.get(`${op}@${name}`) ?? 0),
      0,
    );
  }
  resetCounts(): void {
    this.opCounts.clear();
    this.challenges = 0;
  }

  /** Apply `fault` to the next `fault.times` (default 1) requests for `op` ('*' = any operation). */
  fail(op: FakeOperation | '*', fault: Fault): void {
    this.faults.push({ op, fault: { ...fault, times: fault.times ?? 1 } });
  }
  clearFaults(): void {
    this.faults = [];
  }

  /** Seed a key directly (as if created in the portal); returns its kid. */
  addKey(name: string, o: FakeKeyOptions = {}): string {
    return this.model.addKey(name, o);
  }

  /** Store a new version of a secret (as `az keyvault secret set`); returns its identifier. */
  setSecret(name: string, value: string): string {
    const version = randomBytes(16).toString('hex');
    this.secrets.set(name, [...(this.secrets.get(name) ?? []), { version, value }]);
    return `${this.url}/secrets/${name}/${version}`;
  }

  private secretBundle(name: string, version: string | undefined): Answer {
    const versions = this.secrets.get(name) ?? [];
    const s = version === undefined ? versions.at(-1) : versions.find((v) => v.version === version);
    if (!s)
      throw new HttpError(
        404,
        'SecretNotFound',
        `A secret with (name/id) ${name} was not found in this key vault.`,
      );
    const now = Math.floor(Date.now() / 1000);
    return [
      200,
      {
        value: s.value,
        id: `${this.url}/secrets/${name}/${s.version}`,
        attributes: { enabled: true, created: now, updated: now, recoveryLevel: 'Recoverable+Purgeable' },
      },
    ];
  }

  /** Disable the latest version of a key (Key Vault then refuses crypto operations with 403). */
  disableKey(name: string): void {
    this.model.disableKey(name);
  }

  /** Settings naming this vault, for lib/keys/keyvault-ca.ts and the CLI. */
  settings(over: Partial<KeyVaultSettings> = {}): KeyVaultSettings {
    return {
      url: this.url,
      certificateName: 'scep-ca',
      subject: 'CN=Test Key Vault CA, O=azure-scep-ca tests',
      keySize: 2048,
      keyType: 'RSA',
      daysExpiresIn: 3650,
      chainPem: undefined,
      nextChainPem: undefined,
      managedIdentityClientId: undefined,
      ...over,
    };
  }

  /**
   * Bootstrap a root CA in this vault through the real SDK clients, as `npm run ca -- init`
   * does, and return settings that name it (for loadKeyVaultCa and the SCEP tests).
   */
  async initCa(over: Partial<KeyVaultSettings> = {}): Promise<KeyVaultSettings> {
    const s = this.settings(over);
    await initRootCa(vaultContext(s, this.credential, this.clientOptions, { log: silentLogger }), s);
    return s;
  }

  /** App settings that name a CA made by `initCa` (RSA 2048 keys, as the tests make them). */
  appSettings(kv: KeyVaultSettings): Record<string, string> {
    return {
      AppConfig__KeyVaultConfig__KeyVaultURL: kv.url ?? this.url,
      AppConfig__KeyVaultConfig__RootCertificateConfig__CertificateName: kv.certificateName,
      AppConfig__KeyVaultConfig__RootCertificateConfig__KeyType: 'RSA',
      AppConfig__KeyVaultConfig__RootCertificateConfig__KeySize: '2048',
    };
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => {
      this.server.close(() => {
        resolve();
      });
    });
  }

  // ---- HTTP ---------------------------------------------------------------------------------

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const u = new URL(req.url ?? '/', this.url);
    const body = await readBody(req);
    if (req.headers.authorization !== `Bearer ${FAKE_TOKEN}`) {
      // Key Vault's challenge: the SDK learns the tenant and resource from it, then resends.
      this.challenges++;
      res.writeHead(401, {
        'content-type': 'application/json; charset=utf-8',
        'www-authenticate': `Bearer authorization="https://login.microsoftonline.com/${TENANT}", resource="https://vault.azure.net"`,
      });
      res.end(
        JSON.stringify({
          error: { code: 'Unauthorized', message: 'AKV10000: Request is missing a Bearer or PoP token.' },
        }),
      );
      return;
    }
    try {
      if (!u.searchParams.get('api-version'))
        throw new HttpError(400, 'BadParameter', 'The api-version query parameter is missing.');
      const route = this.route(
        req.method ?? 'GET',
        u.pathname.split('/').filter((s) => s !== ''),
      );
      this.opCounts.set(route.op, (this.opCounts.get(route.op) ?? 0) + 1);
      const perKey = `${route.op}@${u.pathname.split('/')[2] ?? ''}`;
      this.opCounts.set(perKey, (this.opCounts.get(perKey) ?? 0) + 1);
      const fault = this.takeFault(route.op);
      if (fault?.delayMs !== undefined) await sleep(fault.delayMs);
      if (fault?.status !== undefined) {
        const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
        if (fault.retryAfter !== undefined) headers['retry-after'] = fault.retryAfter;
        const code = fault.code ?? (fault.status === 429 ? 'Throttled' : 'InternalServerError');
        send(res, fault.status, { error: { code, message: `Scripted ${fault.status}` } }, headers);
        return;
      }
      const json = body.length > 0 ? (JSON.parse(body.toString('utf8')) as Record<string, unknown>) : {};
      const [status, out] = await route.run(json);
      send(res, status, out);
    } catch (e) {
      if (e instanceof HttpError) send(res, e.status, { error: { code: e.code, message: e.message } });
      else
        send(res, 500, {
          error: { code: 'InternalServerError', message: e instanceof Error ? e.message : String(e) },
        });
    }
  }

  private takeFault(op: FakeOperation): Fault | undefined {
    const f = this.faults.find((x) => (x.op === op || x.op === '*') && (x.fault.times ?? 0) > 0);
    if (f === undefined) return undefined;
    if ((f.fault.skip ?? 0) > 0) {
      f.fault.skip = (f.fault.skip ?? 0) - 1;
      return undefined;
    }
    f.fault.times = (f.fault.times ?? 1) - 1;
    return f.fault;
  }

  private route(
    method: string,
    p: string[],
  ): { op: FakeOperation; run: (b: Record<string, unknown>) => Answer | Promise<Answer> } {
    const [kind, name = '', a, b] = p;
    if (kind === 'keys' && method === 'GET' && b === undefined)
      return { op: 'getKey', run: () => [200, this.model.keyBundle(this.model.key(name, a))] };
    if (kind === 'keys' && method === 'POST' && a === 'create')
      return { op: 'createKey', run: (j) => [200, this.model.createKey(name, j)] };
    if (kind === 'keys' && method === 'POST' && a !== undefined && b === 'sign')
      return { op: 'sign', run: (j) => [200, this.model.sign(this.model.key(name, a), j)] };
    if (kind === 'keys' && method === 'POST' && a !== undefined && (b === 'decrypt' || b === 'unwrapkey')) {
      const op = b === 'decrypt' ? 'decrypt' : 'unwrapKey';
      return { op, run: (j) => [200, this.model.decrypt(this.model.key(name, a), op, j)] };
    }
    if (kind === 'certificates' && method === 'POST' && a === 'create') {
      return { op: 'createCertificate', run: async (j) => [202, await this.model.createCert(name, j)] };
    }
    if (kind === 'certificates' && method === 'GET' && a === 'pending')
      return {
        op: 'getPendingCertificate',
        run: () => [200, this.model.operation(this.model.pending(name))],
      };
    if (kind === 'certificates' && method === 'POST' && a === 'pending' && b === 'merge')
      return { op: 'mergeCertificate', run: (j) => [201, this.model.merge(name, j)] };
    if (kind === 'secrets' && method === 'GET' && b === undefined)
      return { op: 'getSecret', run: () => this.secretBundle(name, a) };
    if (kind === 'certificates' && method === 'GET' && b === undefined)
      return { op: 'getCertificate', run: () => [200, this.model.certBundle(this.model.cert(name, a))] };
    throw new HttpError(404, 'NotFound', `No route ${method} /${p.join('/')}`);
  }
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.destroyed || res.writableEnded) return; // the client gave up (timeout test)
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Start a fake vault on 127.0.0.1 (random port). Close it with `close()`. */
export async function startFakeKeyVault(): Promise<FakeKeyVault> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const vault = new FakeKeyVault(server, (server.address() as AddressInfo).port);
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    void vault.handle(req, res);
  });
  return vault;
}
