import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AsnParser } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { startLocalHost, type LocalHost } from '../../scripts/host.js';

export interface TestHost extends LocalHost {
  readonly scepUrl: string;
  readonly ca: Certificate;
  readonly dataDir: string;
  post(path: string, body: Uint8Array, headers?: Record<string, string>): Promise<Response>;
}

/** The local host on a free port with a fresh data folder and a known static challenge. */
export async function startTestHost(env: Record<string, string> = {}): Promise<TestHost> {
  const dataDir = mkdtempSync(join(tmpdir(), 'scep-ca-test-'));
  const host = await startLocalHost({
    port: 0,
    dataDir,
    quiet: true,
    env: { AppConfig__StaticValidation__RequestPassword: 'test-challenge-1', ...env },
  });
  const pem = host.caCertificatePem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  return {
    ...host,
    dataDir,
    scepUrl: `${host.baseUrl}/scep/static`,
    ca: AsnParser.parse(Buffer.from(pem, 'base64'), Certificate),
    post: (path, body, headers = {}) => fetch(`${host.baseUrl}${path}`, { method: 'POST', body, headers }),
    close: async () => {
      await host.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
