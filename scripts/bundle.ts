import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * Stages the deployment package in dist/deploy: host.json, package.json, the lockfile, the
 * compiled functions and lib, and production dependencies only (`npm ci --omit=dev
 * --omit=optional`). azure.yaml zips that folder (`dist: dist/deploy`) and deploys it without a
 * remote build, so the package carries neither the test tooling (vitest, azurite, the Cosmos
 * emulator, TypeScript) nor the optional azure-functions-core-tools.
 *
 * Run after `npm run build`: `node dist/scripts/bundle.js` (the azd prepackage hook does both).
 * `--no-install` stages without node_modules.
 *
 * A bundler (esbuild) could replace the node_modules copy with one file per function: fewer,
 * smaller files for a cold Flex Consumption instance to fetch and for Node to resolve.
 */

/** What goes into the package besides node_modules; everything else under dist/ stays out. */
const ROOT_FILES = ['host.json', 'package.json', 'package-lock.json'];
const DIST_DIRS = ['functions', 'lib'];

export interface StageResult {
  readonly dir: string;
  readonly files: number;
  readonly bytes: number;
}

/** The project root: the nearest folder above this script holding host.json and package.json. */
export function projectRoot(from = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'host.json')) && existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no host.json + package.json above ${from}`);
  }
}

export function stage(root: string, install = true): StageResult {
  const out = join(root, 'dist', 'deploy');
  for (const d of DIST_DIRS) {
    if (!existsSync(join(root, 'dist', d)))
      throw new Error(`dist/${d} is missing: run "npm run build" first`);
  }
  rmSync(out, { recursive: true, force: true });
  mkdirSync(join(out, 'dist'), { recursive: true });
  for (const f of ROOT_FILES) cpSync(join(root, f), join(out, f));
  for (const d of DIST_DIRS) cpSync(join(root, 'dist', d), join(out, 'dist', d), { recursive: true });
  if (install) npmCiProduction(out);
  return { dir: out, ...sizeOf(out) };
}

function npmCiProduction(dir: string): void {
  // npm is npm.cmd on Windows, which Node only spawns through a shell.
  const windows = process.platform === 'win32';
  const r = spawnSync(
    windows ? 'npm.cmd' : 'npm',
    ['ci', '--omit=dev', '--omit=optional', '--ignore-scripts', '--no-audit', '--no-fund'],
    { cwd: dir, stdio: 'inherit', shell: windows },
  );
  if (r.status !== 0) throw new Error(`npm ci in ${dir} failed (exit ${String(r.status ?? r.signal)})`);
}

function sizeOf(dir: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  for (const entry of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    const s = statSync(join(dir, entry));
    if (s.isFile()) {
      files += 1;
      bytes += s.size;
    }
  }
  return { files, bytes };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    const r = stage(projectRoot(), !process.argv.includes('--no-install'));
    console.log(`Staged ${r.dir}: ${r.files} files, ${(r.bytes / 1024 / 1024).toFixed(1)} MB`);
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    process.exitCode = 1;
  }
}
