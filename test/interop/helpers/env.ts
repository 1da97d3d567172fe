/**
 * One local host per test file, on 127.0.0.1 port 0 with a fresh data folder, behind a recording
 * proxy. Clients get `scepUrl` (the static endpoint through the recorder).
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TokenCredential } from '@azure/identity';
import { startLocalHost } from '../../../scripts/host.js';
import { startRecorder, type Recorder } from './recorder.js';

export const INTEROP_CHALLENGE = 'interop-secret-1';

export interface InteropEnv {
  /** `<recorder>/scep/static`: the static SCEP endpoint, every exchange recorded. */
  readonly scepUrl: string;
  /** The same endpoint as Windows clients address it (`…/pkiclient.exe`). */
  readonly windowsScepUrl: string;
  readonly challenge: string;
  readonly caPem: string;
  readonly recorder: Recorder;
  /** A fresh folder for one client run. */
  workDir(name: string): Promise<string>;
  close(): Promise<void>;
}

export interface InteropEnvOptions {
  /** Further settings (e.g. a Key Vault CA). */
  readonly env?: Readonly<Record<string, string>>;
  /** Azure credential for the host (Key Vault / Cosmos DB fakes). */
  readonly credential?: TokenCredential;
}

export async function startInteropEnv(label: string, options: InteropEnvOptions = {}): Promise<InteropEnv> {
  const root = await mkdtemp(join(tmpdir(), `scep-interop-${label}-`));
  const host = await startLocalHost({
    port: 0,
    dataDir: join(root, 'data'),
    env: {
      AppConfig__StaticValidation__Enabled: 'true',
      AppConfig__StaticValidation__RequestPassword: INTEROP_CHALLENGE,
      AppConfig__StaticValidation__AllowRenewals: 'true',
      ...options.env,
    },
    quiet: true,
    ...(options.credential ? { credential: options.credential } : {}),
  });
  // Tests count Key Vault operations and audit events: let the start-up warmup finish first.
  await host.warmedUp;
  const challenge = host.staticChallenge;
  let recorder: Recorder;
  try {
    if (challenge === undefined) throw new Error('the local host has no static challenge');
    recorder = await startRecorder(host.baseUrl);
  } catch (e) {
    await host.close();
    throw e;
  }
  let n = 0;
  return {
    scepUrl: `${recorder.baseUrl}/scep/static`,
    windowsScepUrl: `${recorder.baseUrl}/scep/static/pkiclient.exe`,
    challenge,
    caPem: host.caCertificatePem,
    recorder,
    async workDir(name) {
      const dir = join(root, `${String(++n).padStart(2, '0')}-${name}`);
      await mkdir(dir, { recursive: true });
      return dir;
    },
    async close() {
      await recorder.close();
      await host.close();
      if (process.env.SCEP_INTEROP_KEEP !== '1') await rm(root, { recursive: true, force: true });
    },
  };
}
