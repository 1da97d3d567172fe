import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * Stages the deployment package in dist/deploy: host.json, a minimal package.json, and the
 * function entry points bundled with esbuild (shared code split into dist/chunks, the Azure SDKs
 * in chunks of their own that load only when a feature is configured). No node_modules: the
 * package is about 5 MB instead of 70 MB, and a cold worker imports it about three times faster
 * than the compiled tree with its dependencies (measured: 134–241 ms against 579–724 ms).
 * azure.yaml deploys that folder (`dist: dist/deploy`) without a remote build.
 *
 * `@azure/functions-core` stays external: the Functions Node worker provides it at run time.
 * The admin console (web/, built by Vite) is staged in dist/web beside dist/functions.
 */

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

// CommonJS packages inside an ESM bundle still call require() and read __dirname.
const BANNER = [
  "import { createRequire as __scepCreateRequire } from 'node:module';",
  "import { fileURLToPath as __scepFileURLToPath } from 'node:url';",
  "import { dirname as __scepDirname } from 'node:path';",
  'const require = __scepCreateRequire(import.meta.url);',
  'const __filename = __scepFileURLToPath(import.meta.url);',
  'const __dirname = __scepDirname(__filename);',
].join(' ');

export async function stage(root: string, out = join(root, 'dist', 'deploy')): Promise<StageResult> {
  const functionsDir = join(root, 'functions');
  if (!existsSync(functionsDir)) throw new Error(`${functionsDir} is missing`);
  const entryPoints = readdirSync(functionsDir)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .map((f) => join(functionsDir, f));
  const { build } = await import('esbuild');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const result = await build({
    entryPoints,
    absWorkingDir: root,
    metafile: true,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    splitting: true,
    outdir: join(out, 'dist', 'functions'),
    chunkNames: '../chunks/[name]-[hash]',
    // libsql (the embedded database, native) loads only without Cosmos DB, i.e. never in Azure.
    external: ['@azure/functions-core', 'libsql'],
    banner: { js: BANNER },
    legalComments: 'linked',
    logLevel: 'warning',
  });
  refuseTestCode(Object.keys(result.metafile.inputs));
  // The admin console's static files, next to the functions as functions/console.ts expects.
  const { build: buildWeb } = await import('vite');
  await buildWeb({
    configFile: join(root, 'web', 'vite.config.ts'),
    build: { outDir: join(out, 'dist', 'web'), emptyOutDir: true },
    logLevel: 'warn',
  });
  writeFileSync(join(out, 'host.json'), readFileSync(join(root, 'host.json')));
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    name: string;
    version: string;
    main: string;
    engines?: unknown;
  };
  const deployPackage = {
    name: pkg.name,
    version: pkg.version,
    type: 'module',
    main: pkg.main,
    engines: pkg.engines,
  };
  writeFileSync(join(out, 'package.json'), `${JSON.stringify(deployPackage, null, 2)}\n`);
  return { dir: out, ...sizeOf(out) };
}

/** Test-only code (test/, testkit/) never ships: a function that imports it fails the staging. */
function refuseTestCode(inputs: readonly string[]): void {
  const leaked = inputs.filter((f) => /^(test|testkit)\//.test(f));
  if (leaked.length > 0) throw new Error(`the deploy bundle would include test code: ${leaked.join(', ')}`);
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
  stage(projectRoot()).then(
    (r) => {
      console.log(`Staged ${r.dir}: ${r.files} files, ${(r.bytes / 1024 / 1024).toFixed(1)} MB`);
    },
    (e: unknown) => {
      console.error(e instanceof Error ? e.message : String(e));
      process.exitCode = 1;
    },
  );
}
