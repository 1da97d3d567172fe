import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ClientCheck } from '../interop/helpers/clients.js';
import { startFrontEnd, type FrontEnd } from './front-end.js';
import { startTestHost, type TestHost } from './host.js';
import { startRestIdentity, type RestIdentity } from './rest-token.js';
import { requireTools } from './tools.js';

/**
 * curl and openssl as the clients of the local host behind an App Service-like HTTPS front end
 * (optional client certificate forwarded in X-ARR-ClientCert), with the REST API on and its
 * tokens from a local JWKS server: the setting of the documented walk-throughs (docs/rest.md, docs/est.md).
 */

export const curlAndOpenssl: ClientCheck = requireTools('openssl', 'curl');

export interface CurlFront {
  /** Working folder of the shell commands; holds ca.pem (the host's CA) and srv.pem. */
  readonly dir: string;
  readonly identity: RestIdentity;
  readonly host: TestHost;
  readonly frontEnd: FrontEnd;
  /**
   * Run a bash snippet asynchronously (the servers answer from this process) with APP set to
   * the front end, T to a valid token and curl trusting the front end's certificate.
   */
  sh(script: string): Promise<string>;
  close(): Promise<void>;
}

export async function startCurlFront(name: string, settings: Record<string, string>): Promise<CurlFront> {
  const dir = mkdtempSync(join(tmpdir(), `${name}-`));
  const identity = await startRestIdentity(name);
  const host = await startTestHost({ ...identity.settings, ...settings });
  writeFileSync(join(dir, 'ca.pem'), host.caCertificatePem);
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes']
      .concat(['-keyout', 'srv.key', '-out', 'srv.pem', '-days', '2', '-subj', '/CN=localhost'])
      .concat(['-addext', 'subjectAltName=IP:127.0.0.1']),
    { cwd: dir, stdio: 'ignore' },
  );
  const frontEnd = await startFrontEnd({
    target: host.baseUrl,
    key: readFileSync(join(dir, 'srv.key')),
    cert: readFileSync(join(dir, 'srv.pem')),
  });
  return {
    dir,
    identity,
    host,
    frontEnd,
    sh: async (script) => {
      const { stdout } = await promisify(execFile)('bash', ['-euo', 'pipefail', '-c', script], {
        cwd: dir,
        env: {
          ...process.env,
          APP: frontEnd.url,
          T: await identity.token(),
          CURL_CA_BUNDLE: join(dir, 'srv.pem'),
        },
        timeout: 20_000,
      });
      return stdout;
    },
    close: async () => {
      await frontEnd.close();
      await host.close();
      await identity.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
