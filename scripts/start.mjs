// `npm start`: compiles the TypeScript sources to dist/ with esbuild (transpile only, a few
// hundred milliseconds, and only when a source is newer than the last compile), then runs the
// local host in this process. Type checking stays with `npm run build` and `npm run lint`;
// `func start` keeps using what `npm run build` writes to dist/ (same layout).
import { mkdirSync, readdirSync } from 'node:fs';
import module from 'node:module';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { mtime, pruneOutputs, staleSources, writeStamp } from './start-stale.mjs';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
// test/fakes: the Key Vault test server that `npm run bench` counts RA-mode operations with;
// testkit: the SCEP client the benchmarks enroll with.
const dirs = ['functions', 'lib', 'scripts', 'test/fakes', 'testkit'];
const { files, stale } = staleSources(root, dirs);
if (stale) {
  const { build } = await import('esbuild');
  await build({
    entryPoints: files.map((f) => join(root, f)),
    outdir: join(root, 'dist'),
    outbase: root,
    bundle: false,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    sourcemap: true,
    logLevel: 'warning',
  });
  const removed = pruneOutputs(root, dirs, files);
  mkdirSync(join(root, 'dist'), { recursive: true });
  writeStamp(root, files);
  process.stderr.write(
    `npm start: compiled ${files.length} sources to dist/${removed.length ? `, removed ${removed.length} outputs of deleted sources` : ''}\n`,
  );
}
// The admin console (web/, Preact + Vite) into dist/web, when a web source is newer than the build.
const webSrc = readdirSync(join(root, 'web', 'src'), { recursive: true }).map((f) => join('web', 'src', f));
const webFiles = ['web/index.html', 'web/vite.config.ts', ...webSrc];
if (
  !process.argv.includes('--compile-only') &&
  webFiles.some((f) => mtime(root, f) >= mtime(root, 'dist/web/index.html'))
) {
  const { build: vite } = await import('vite');
  await vite({ configFile: join(root, 'web', 'vite.config.ts'), logLevel: 'warn' });
}
// `--compile-only`: what `npm run bench` runs before its own entry point.
if (!process.argv.includes('--compile-only')) {
  // Node 22: V8's compiled code of the app and its dependencies is kept on disk between starts.
  module.enableCompileCache?.();
  const { main } = await import(pathToFileURL(join(root, 'dist', 'scripts', 'host.js')).href);
  main();
}
