import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TokenCredential } from '@azure/identity';
import { AsnParser } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { startLocalHost, type LocalHost } from '../../scripts/host.js';

export interface TestHost extends LocalHost {
  readonly scepUrl: string;
  readonly ca: Certificate;
  readonly dataDir: string;
  post(path: string, body: Uint8Array, headers?: Record<string, string>): Promise<Response>;
}

export interface TestHostOptions {
  /**
   * 'sqlite': the embedded database in the data folder (what `npm start` uses); 'cosmos': the
   * in-process Cosmos-compatible server persisted under the data folder; default memory.
   */
  readonly store?: 'memory' | 'sqlite' | 'cosmos';
  /** Azure credential for Key Vault / Cosmos DB fakes. */
  readonly credential?: TokenCredential;
  /** Use (and keep on close) this data folder instead of a fresh temporary one. */
  readonly dataDir?: string;
}

/** The local host on a free port with a fresh data folder and a known static challenge. */
export async function startTestHost(
  env: Record<string, string> = {},
  options: TestHostOptions = {},
): Promise<TestHost> {
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'scep-ca-test-'));
  const host = await startLocalHost({
    port: 0,
    dataDir,
    quiet: true,
    env: { AppConfig__StaticValidation__RequestPassword: 'test-challenge-1', ...env },
    ...(options.store ? { store: options.store } : {}),
    ...(options.credential ? { credential: options.credential } : {}),
  });
  // Tests count Key Vault operations and audit events: let the start-up warmup finish first.
  await host.warmedUp;
  const pem = host.caCertificatePem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  return {
    ...host,
    dataDir,
    scepUrl: `${host.baseUrl}/scep/static`,
    ca: AsnParser.parse(Buffer.from(pem, 'base64'), Certificate),
    post: (path, body, headers = {}) => fetch(`${host.baseUrl}${path}`, { method: 'POST', body, headers }),
    close: async () => {
      await host.close();
      if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
