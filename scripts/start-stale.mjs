// What `npm start` compiles (scripts/start.mjs): the TypeScript sources under `dirs`, and whether
// any of them, package.json or tsconfig.json changed since the stamp the last compile wrote.
// Plain JavaScript: it runs before anything is compiled. Every path is relative to `root`.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The compile's stamp, relative to the project root. */
export const STAMP = join('dist', '.start-build');

/** @param {string} root @param {readonly string[]} dirs @returns {{ files: string[], stale: boolean }} */
export function staleSources(root, dirs) {
  const files = dirs.flatMap((d) => sources(root, d));
  const built = mtime(root, STAMP);
  return {
    files,
    stale: [...files, 'package.json', 'tsconfig.json'].some((f) => mtime(root, f) >= built),
  };
}

/** A file's modification time in ms, 0 when it does not exist. @param {string} root @param {string} file */
export function mtime(root, file) {
  try {
    return statSync(join(root, file)).mtimeMs;
  } catch {
    return 0;
  }
}

function sources(root, dir, out = []) {
  for (const e of readdirSync(join(root, dir), { withFileTypes: true })) {
    const rel = join(dir, e.name);
    if (e.isDirectory()) sources(root, rel, out);
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(rel);
  }
  return out;
}
