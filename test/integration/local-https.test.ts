import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { curlAndOpenssl } from '../helpers/curl-front.js';
import { startTestHost, type TestHost } from '../helpers/host.js';
import { startRestIdentity, type RestIdentity } from '../helpers/rest-token.js';
import { describeWithClient } from '../interop/helpers/suite.js';

/**
 * `npm start` with HTTPS_PORT: the local host's own HTTPS front end (scripts/local/local-https.ts),
 * its server certificate issued by the local CA, a client certificate forwarded as App Service
 * does, so renewal over mTLS works on a laptop with plain curl.
 */

let dataDir: string;
let identity: RestIdentity;
let host: TestHost;
let settings: Record<string, string>;

beforeAll(async () => {
  if (!curlAndOpenssl.available) return;
  dataDir = mkdtempSync(join(tmpdir(), 'local-https-'));
  identity = await startRestIdentity('local-https');
  settings = {
    ...identity.settings,
    HTTPS_PORT: '0',
    AppConfig__DbCSRValidation__AllowRenewals: 'true',
    AppConfig__DbCSRValidation__ClientCertificateHeader: 'X-ARR-ClientCert',
  };
  host = await startTestHost(settings, { dataDir });
});

afterAll(async () => {
  if (!dataDir) return;
  await host.close();
  await identity.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const caFile = (): string => join(dataDir, 'local-https', 'ca.pem');
const serverCert = (): X509Certificate =>
  new X509Certificate(readFileSync(join(dataDir, 'local-https', 'server.pem')));

async function sh(script: string): Promise<string> {
  const { stdout } = await promisify(execFile)('bash', ['-euo', 'pipefail', '-c', script], {
    cwd: dataDir,
    env: { ...process.env, HTTPS: host.httpsUrl ?? 'no-https', T: await identity.token() },
    timeout: 20_000,
  });
  return stdout;
}

describeWithClient('local HTTPS front end of npm start (HTTPS_PORT)', curlAndOpenssl, () => {
  it('ok/serves HTTPS with a localhost certificate issued by the local CA (curl --cacert verifies it)', async () => {
    expect(host.httpsUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const out = await sh(`curl -sS --cacert "${caFile()}" -o /dev/null -w '%{http_code}\\n' "$HTTPS/probe"
openssl verify -CAfile "${caFile()}" local-https/server.pem`);
    expect(out).toBe('200\nlocal-https/server.pem: OK\n');
    expect(serverCert().subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1');
    expect(
      new X509Certificate(host.caCertificatePem).raw.equals(new X509Certificate(readFileSync(caFile())).raw),
    ).toBe(true);
  });

  it('ok/forwards the client certificate: enroll with a token, then renew with curl --cert over EST', async () => {
    const out = await sh(`openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout a.key \\
  -subj "/CN=laptop.contoso.com" -out a.csr 2>/dev/null
curl -sS --cacert "${caFile()}" -H "Authorization: Bearer $T" -H 'Accept: application/x-pem-file' \\
  --data-binary @a.csr "$HTTPS/api/csr" -o a.pem
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout b.key -subj "/CN=Contoso" -out b.csr 2>/dev/null
{ echo "-----BEGIN PKCS7-----"; curl -sS --cacert "${caFile()}" --cert a.pem --key a.key --data @b.csr \\
    "$HTTPS/.well-known/est/simplereenroll"; printf "\\n-----END PKCS7-----"; } > b.p7b
openssl pkcs7 -print_certs -in b.p7b -noout`);
    expect(out).toContain('subject=CN = laptop.contoso.com');
  });

  it('ok/keeps its server certificate across restarts with the same data folder', async () => {
    const before = serverCert().fingerprint256;
    await host.close();
    host = await startTestHost(settings, { dataDir });
    expect(serverCert().fingerprint256).toBe(before);
    expect(await sh(`curl -sS --cacert "${caFile()}" -o /dev/null -w '%{http_code}' "$HTTPS/probe"`)).toBe(
      '200',
    );
  });
});
