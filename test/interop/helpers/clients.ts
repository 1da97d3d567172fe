/**
 * Running third-party SCEP clients: every run is bounded by a timeout, never throws, and keeps
 * the client's output so a failing test can show exactly what the client said.
 */
import { execFile, spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface ClientRun {
  /** The command line as run, with secrets replaced by `***`. */
  commandLine: string;
  /** Exit code; `null` when the client was killed (timeout or signal). */
  code: number | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd: string;
  timeoutMs: number;
  /** Extra environment variables (added to the test process's environment). */
  env?: Record<string, string>;
  /** Values to hide in `commandLine` (challenges). */
  secrets?: readonly string[];
}

export function runClient(file: string, args: readonly string[], opts: RunOptions): Promise<ClientRun> {
  const hide = (s: string): string => (opts.secrets?.includes(s) ? '***' : s);
  const commandLine = [file, ...args.map(hide)]
    .map((a) => (/[\s"']/.test(a) ? JSON.stringify(a) : a))
    .join(' ');
  return new Promise((resolve) => {
    execFile(
      file,
      [...args],
      {
        cwd: opts.cwd,
        timeout: opts.timeoutMs,
        killSignal: 'SIGKILL',
        maxBuffer: 8 * 1024 * 1024,
        encoding: 'utf8',
        env: { ...process.env, ...opts.env },
      },
      (error, stdout, stderr) => {
        const killed = error?.killed === true;
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
        resolve({ commandLine, code: killed ? null : code, timedOut: killed, stdout, stderr });
      },
    );
  });
}

/** Client output without the noise strongSwan prints on every start (plugins it cannot load). */
export function clientLog(run: ClientRun): string {
  const noise = /^(plugin '|TPM 2\.0|building CRED_CONTAINER - PKCS7 failed)/;
  const clean = (s: string): string =>
    s
      .split('\n')
      .filter((l) => l.trim() !== '' && !noise.test(l))
      .join('\n');
  const shortPem = (s: string): string =>
    s.replace(
      /-----BEGIN ([A-Z ]+)-----[\s\S]*?-----END \1-----/g,
      (m, label: string) => `[PEM ${label}, ${m.length} chars]`,
    );
  const status = run.timedOut ? 'killed after timeout' : `exit code ${run.code ?? 'null'}`;
  return `$ ${run.commandLine}\n(${status})\n--- stderr ---\n${clean(run.stderr)}\n--- stdout ---\n${shortPem(clean(run.stdout))}`;
}

export function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export interface ClientCheck {
  available: boolean;
  /** Why the client cannot run (empty when available). */
  reason: string;
}

export function checkScepclient(): ClientCheck {
  if (findOnPath('scepclient')) return { available: true, reason: '' };
  return { available: false, reason: 'micromdm `scepclient` not on PATH (apt-get install scep)' };
}

/** strongSwan `pki` needs the curl fetcher plugin (libstrongswan-extra-plugins) to speak HTTP. */
export function checkStrongswanPki(): ClientCheck {
  const pki = findOnPath('pki');
  if (!pki)
    return { available: false, reason: 'strongSwan `pki` not on PATH (apt-get install strongswan-pki)' };
  const help = spawnSync(pki, ['--help'], { encoding: 'utf8', timeout: 15_000 });
  const loaded = /loaded plugins:([^\n]*)/.exec(`${help.stdout}\n${help.stderr}`)?.[1] ?? '';
  if (!/\bcurl\b/.test(loaded)) {
    return {
      available: false,
      reason: 'strongSwan `pki` has no curl plugin (apt-get install libstrongswan-extra-plugins)',
    };
  }
  return { available: true, reason: '' };
}

/** OpenSSL's command line (ocsp, crl, verify). */
export function checkOpenssl(): ClientCheck {
  if (findOnPath('openssl')) return { available: true, reason: '' };
  return { available: false, reason: '`openssl` not on PATH (apt-get install openssl)' };
}
