import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LocalHostOptions } from '../host.js';

/**
 * The local host's settings and data folder: process.env, local.settings.json's Values (as
 * `func start` reads them) and the caller's settings, in that order, plus the static challenge
 * kept in the data folder.
 */

const scriptsDir = join(dirname(fileURLToPath(import.meta.url)), '..');
/** The project root (host.json, local.settings.json), from scripts/ or dist/scripts/. */
export const root = join(scriptsDir, existsSync(join(scriptsDir, '..', 'host.json')) ? '..' : '../..');

export interface LocalSettings {
  readonly env: Record<string, string | undefined>;
  readonly dataDir: string;
  readonly staticChallenge: string | undefined;
}

export async function prepareSettings(
  o: Pick<LocalHostOptions, 'env' | 'dataDir' | 'loadLocalSettings'>,
): Promise<LocalSettings> {
  const env: Record<string, string | undefined> = { ...process.env };
  if (o.loadLocalSettings) Object.assign(env, localSettings(), { ...pick(process.env) });
  Object.assign(env, o.env ?? {});
  const dataDir = o.dataDir ?? env.AppConfig__DataDir ?? join(root, '.data');
  env.AppConfig__DataDir = dataDir;
  const staticChallenge = await ensureStaticChallenge(env, dataDir);
  return { env, dataDir, staticChallenge };
}

/** local.settings.json's Values; a file that is not JSON stops the start, naming the file. */
export function localSettings(file = join(root, 'local.settings.json')): Record<string, string> {
  if (!existsSync(file)) return {};
  let parsed: { Values?: Record<string, string> };
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as typeof parsed;
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${e instanceof Error ? e.message : String(e)})`, { cause: e });
  }
  return parsed.Values ?? {};
}

function pick(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env))
    if (v !== undefined && /^(AppConfig__|AZURE_|AzureWebJobs)/.test(k)) out[k] = v;
  return out;
}

/** The static challenge in force: configured, or generated once and kept in the data folder. */
async function ensureStaticChallenge(
  env: Record<string, string | undefined>,
  dataDir: string,
): Promise<string | undefined> {
  if (/^(false|0|no)$/i.test(env.AppConfig__StaticValidation__Enabled ?? '')) return undefined;
  const configured = env.AppConfig__StaticValidation__RequestPassword;
  if (configured) return configured;
  const file = join(dataDir, 'static-challenge.txt');
  let secret: string;
  try {
    secret = (await readFile(file, 'utf8')).trim();
  } catch {
    secret = randomBytes(24).toString('base64url'); // 192 bits, 32 characters
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    await writeFile(file, `${secret}\n`, { mode: 0o600 });
  }
  env.AppConfig__StaticValidation__RequestPassword = secret;
  return secret;
}

const STORES = ['sqlite', 'memory', 'cosmos'] as const;

/**
 * `npm start`'s own variables: PORT (7071), HOST (127.0.0.1) and LOCAL_STORE, else the app
 * setting AppConfig__LocalStore (environment, then local.settings.json), else
 * sqlite. A value that is not one of them stops the start naming the variable, rather than a
 * listen error about NaN or, for a mistyped LOCAL_STORE=Memory, records kept in the database.
 */
export function hostEnvironment(
  env: NodeJS.ProcessEnv,
  appSettings: Readonly<Record<string, string>> = {},
): { port: number; host?: string; store: (typeof STORES)[number] } {
  const portText = env.PORT?.trim() || '7071';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535)
    throw new Error(`PORT: expected a port number from 0 to 65535, got "${env.PORT ?? ''}"`);
  const [name, value] = (
    [
      ['LOCAL_STORE', env.LOCAL_STORE],
      ['AppConfig__LocalStore', env.AppConfig__LocalStore ?? appSettings.AppConfig__LocalStore],
    ] as const
  ).find(([, v]) => v?.trim()) ?? ['LOCAL_STORE', 'sqlite'];
  const store = STORES.find((s) => s === value?.trim());
  if (!store) throw new Error(`${name}: expected sqlite, memory or cosmos, got "${value ?? ''}"`);
  const host = env.HOST?.trim();
  return { port, ...(host ? { host } : {}), store };
}
