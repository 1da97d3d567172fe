import 'reflect-metadata';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT } from 'jose';
import { loggerAudit } from '../../lib/audit.js';
import { CertificateIssuer } from '../../lib/ca/issue.js';
import { restSection, type RestSettings } from '../../lib/config/rest.js';
import { parseCsr } from '../../lib/csr/parse.js';
import { DEFAULT_POLICY } from '../../lib/csr/policy.js';
import { EnrollmentService } from '../../lib/enroll/service.js';
import { errorResponse } from '../../lib/http/errors.js';
import { loadOrCreateLocalCa } from '../../lib/keys/local-ca.js';
import type { CaKeys } from '../../lib/keys/types.js';
import { silentLogger } from '../../lib/log.js';
import {
  authenticateCsrRequest,
  authorizeCsr,
  createRestAuth,
  type RestAuthDeps,
} from '../../lib/rest/authorize.js';
import { csrFromBody } from '../../lib/rest/csr-body.js';
import { certificateBody } from '../../lib/rest/response.js';
import { MemoryCertificateStore } from '../../lib/store/memory.js';
import { FakeJwksServer, makeSigningKey, type TestSigningKey } from '../fakes/jwks-server.js';

/**
 * The README walk-through ("REST enrollment API"), run with the real openssl and curl against
 * the REST library layers on the real issuance path. The HTTPS server stands in for the App
 * Service front end: it terminates TLS, asks for an optional client certificate, strips any
 * X-ARR-ClientCert the client sent and forwards the presented certificate in that header.
 */

const TENANT = '0c6f3b2a-1d4e-4f5a-8b9c-0d1e2f3a4b5c';
const API = '6a1c2b3d-4e5f-4a6b-9c7d-8e9f0a1b2c3d';
const NOW = new Date(); // one fixed instant for the whole run, passed to every component

const have = (tool: string): boolean => {
  try {
    execFileSync(tool, [tool === 'openssl' ? 'version' : '--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

let dir: string;
let jwks: FakeJwksServer;
let key: TestSigningKey;
let ca: CaKeys;
let store: MemoryCertificateStore;
let server: Server;
let url: string;

function frontEndHeaders(req: IncomingMessage): Headers {
  const h = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (name === 'x-arr-clientcert' || value === undefined) continue; // clients cannot set it
    h.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  // getPeerCertificate() answers {} when the client presented no certificate.
  const raw =
    req.socket instanceof TLSSocket ? (req.socket.getPeerCertificate().raw as Buffer | undefined) : undefined;
  if (raw) h.set('x-arr-clientcert', raw.toString('base64'));
  return h;
}

async function handle(
  req: IncomingMessage,
  body: Uint8Array,
  deps: { rest: RestSettings; restAuth: RestAuthDeps; enrollment: EnrollmentService },
): Promise<{ status: number; headers: Record<string, string>; body: Uint8Array | string }> {
  const headers = frontEndHeaders(req);
  try {
    const credential = await authenticateCsrRequest(headers, deps.restAuth);
    const csr = parseCsr(csrFromBody(body));
    const r = await deps.enrollment.enroll({
      endpoint: 'api',
      operation: 'api/csr',
      csr,
      profile: { validityDays: 30, keyUsage: deps.rest.keyUsage, ekus: deps.rest.ekus },
      policy: DEFAULT_POLICY,
      authorize: () => authorizeCsr(credential, headers, csr, deps.restAuth),
    });
    if (!r.ok) {
      const status = { unauthorized: 403, policy: 400, conflict: 409, unavailable: 503 }[r.kind];
      return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(r) };
    }
    const query = new URL(req.url ?? '/', 'https://localhost').searchParams;
    const out = certificateBody(r.issued.der, [ca.certificateDer], headers.get('accept'), query.get('chain'));
    return { status: 200, headers: { 'content-type': out.contentType }, body: out.body };
  } catch (e) {
    const res = errorResponse(e, silentLogger);
    return {
      status: res.status ?? 500,
      headers: Object.fromEntries(Object.entries(res.headers ?? {}).map(([k, v]) => [k, String(v)])),
      body: JSON.stringify(res.jsonBody),
    };
  }
}

beforeAll(async () => {
  if (!have('openssl') || !have('curl')) return;
  dir = mkdtempSync(join(tmpdir(), 'rest-walkthrough-'));
  key = await makeSigningKey('k1');
  jwks = await FakeJwksServer.start([key]);
  ca = await loadOrCreateLocalCa({
    dataDir: dir,
    subject: 'CN=Walkthrough CA',
    keySize: 2048,
    validityDays: 365,
  });
  store = new MemoryCertificateStore();
  const clock = (): Date => NOW;
  const enrollment = new EnrollmentService(
    new CertificateIssuer(ca, { clockSkewMinutes: 60 }),
    store,
    loggerAudit(silentLogger),
    silentLogger,
    clock,
  );
  const settings = restSection({
    AppConfig__DbCSRValidation__Enabled: 'true',
    AppConfig__AuthConfig__TenantId: TENANT,
    AppConfig__AuthConfig__ApplicationId: API,
    AppConfig__DbCSRValidation__JwksUrl: jwks.url,
    AppConfig__DbCSRValidation__AllowRenewals: 'true',
    AppConfig__DbCSRValidation__ClientCertificateHeader: 'X-ARR-ClientCert',
  });
  if (!settings.ok) throw new Error(settings.problems.join('\n'));
  const restAuth = createRestAuth(settings.value, { caCertificates: [ca.certificateDer], store, now: clock });

  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes']
      .concat(['-keyout', 'srv.key', '-out', 'srv.pem', '-days', '2', '-subj', '/CN=localhost'])
      .concat(['-addext', 'subjectAltName=IP:127.0.0.1']),
    { cwd: dir, stdio: 'ignore' },
  );
  server = createServer(
    {
      key: readFileSync(join(dir, 'srv.key')),
      cert: readFileSync(join(dir, 'srv.pem')),
      requestCert: true,
      rejectUnauthorized: false,
    },
    (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        void handle(req, new Uint8Array(Buffer.concat(chunks)), {
          rest: settings.value,
          restAuth,
          enrollment,
        }).then((r) => {
          res.writeHead(r.status, r.headers).end(r.body);
        });
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  if (!dir) return;
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await jwks.close();
  rmSync(dir, { recursive: true, force: true });
});

const token = (): Promise<string> =>
  new SignJWT({
    aud: `api://${API}`,
    iss: `https://sts.windows.net/${TENANT}/`,
    tid: TENANT,
    oid: '1f2e3d4c-5b6a-4978-8a9b-0c1d2e3f4a5b',
    appid: '9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b',
    roles: ['CSR.Request.Db'],
    nbf: Math.floor(NOW.getTime() / 1000) - 60,
    exp: Math.floor(NOW.getTime() / 1000) + 3600,
  })
    .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' })
    .sign(key.privateKey);

/**
 * Run a README snippet with bash (asynchronously: the server answers from this process);
 * curl trusts the test server's certificate.
 */
async function sh(script: string): Promise<string> {
  const { stdout } = await promisify(execFile)('bash', ['-euo', 'pipefail', '-c', script], {
    cwd: dir,
    env: { ...process.env, APP: url, T: await token(), CURL_CA_BUNDLE: join(dir, 'srv.pem') },
    timeout: 20_000,
  });
  return stdout;
}

const REQUEST = `openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$KEY" \\
    -subj "/CN=build01.contoso.com/O=Contoso" \\
    -addext "subjectAltName=DNS:build01.contoso.com" -outform DER 2>/dev/null`;

describe.skipIf(!have('openssl') || !have('curl'))(
  'README walk-through: openssl + curl against POST /api/csr',
  () => {
    it('ok/step 3: a DER request piped into curl with a token returns a DER certificate', async () => {
      const out = await sh(`KEY=build01.key; ${REQUEST} \\
  | curl --fail-with-body -sS --data-binary @- \\
      -H "Authorization: Bearer $T" -H 'Content-Type: application/pkcs10' \\
      "$APP/api/csr" -o build01.der
openssl x509 -inform DER -in build01.der -noout -subject -issuer -ext subjectAltName,extendedKeyUsage`);
      expect(out).toContain('subject=CN = build01.contoso.com, O = Contoso');
      expect(out).toContain('issuer=CN = Walkthrough CA');
      expect(out).toContain('DNS:build01.contoso.com');
      expect(out).toContain('TLS Web Server Authentication, TLS Web Client Authentication');
      const { items } = await store.search({ endpoint: 'api' });
      expect(items.map((r) => r.authorization)).toEqual(['api']);
    });

    it('ok/step 3: Accept application/x-pem-file with ?chain=true returns certificate and CA in PEM', async () => {
      const out = await sh(`openssl req -new -key build01.key -subj "/CN=build01.contoso.com/O=Contoso" \\
    -addext "subjectAltName=DNS:build01.contoso.com" -out build01.csr
curl --fail-with-body -sS --data-binary @build01.csr -H "Authorization: Bearer $T" \\
  -H 'Accept: application/x-pem-file' "$APP/api/csr?chain=true" -o build01-fullchain.pem
grep -c 'BEGIN CERTIFICATE' build01-fullchain.pem`);
      expect(out.trim()).toBe('2');
    });

    it('fail/without a token the answer is 401 with a Bearer challenge', async () => {
      const out = await sh(`KEY=k.key; ${REQUEST} | curl -sS -i --data-binary @- "$APP/api/csr"`);
      expect(out).toMatch(/^HTTP\/1\.1 401/);
      expect(out).toMatch(/www-authenticate: Bearer realm="azure-scep-ca"/i);
    });

    it('ok/step 4: renewal with the current certificate over mTLS, no token', async () => {
      const out = await sh(`openssl x509 -inform DER -in build01.der -out build01.pem
KEY=build01-new.key; ${REQUEST} \\
  | curl --fail-with-body -sS --cert build01.pem --key build01.key --data-binary @- \\
      -H 'Content-Type: application/pkcs10' "$APP/api/csr" -o build01-new.der
openssl x509 -inform DER -in build01-new.der -noout -subject`);
      expect(out).toContain('subject=CN = build01.contoso.com, O = Contoso');
      const { items } = await store.search({ endpoint: 'api' });
      expect(items.filter((r) => r.authorization === 'renewal')).toHaveLength(1);
    });

    it('fail/renewal for another subject is refused with 403', async () => {
      const out = await sh(`openssl req -new -key build01.key -subj "/CN=db01.contoso.com" -outform DER \\
  | curl -sS -o /dev/null -w '%{http_code}' --cert build01.pem --key build01.key --data-binary @- "$APP/api/csr"`);
      expect(out).toBe('403');
    });

    it('fail/an X-ARR-ClientCert header sent by the client is not a client certificate', async () => {
      const out = await sh(`CERT=$(openssl x509 -in build01.pem -outform DER | base64 -w0)
KEY=k.key; ${REQUEST} \\
  | curl -sS -o /dev/null -w '%{http_code}' -H "X-ARR-ClientCert: $CERT" --data-binary @- "$APP/api/csr"`);
      expect(out).toBe('401');
    });
  },
);
