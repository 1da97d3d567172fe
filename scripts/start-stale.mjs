// What `npm start` compiles (scripts/start.mjs): the TypeScript sources under `dirs`, and whether
// any of them, package.json or tsconfig.json changed, or a source was added or removed, since the
// stamp the last compile wrote (it lists the sources). Plain JavaScript: it runs before anything
// is compiled. Every path is relative to `root`.
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The compile's stamp, relative to the project root. */
export const STAMP = join('dist', '.start-build');

/** @param {string} root @param {readonly string[]} dirs @returns {{ files: string[], stale: boolean }} */
export function staleSources(root, dirs) {
  const files = dirs.flatMap((d) => sources(root, d));
  const built = mtime(root, STAMP);
  let listed = '';
  try {
    listed = readFileSync(join(root, STAMP), 'utf8');
  } catch {
    // No stamp: never compiled.
  }
  return {
    files,
    stale:
      listed !== stampText(files) ||
      [...files, 'package.json', 'tsconfig.json'].some((f) => mtime(root, f) >= built),
  };
}

/** Records a compile of `files`. @param {string} root @param {readonly string[]} files */
export function writeStamp(root, files) {
  writeFileSync(join(root, STAMP), stampText(files));
}

/**
 * Removes compiled output (`.js`, `.js.map`) under dist/ whose source is gone: the local host
 * loads every dist/functions/*.js, so a function removed upstream would otherwise still be served.
 * @param {string} root @param {readonly string[]} dirs @param {readonly string[]} files
 * @returns {string[]} what was removed
 */
export function pruneOutputs(root, dirs, files) {
  const wanted = new Set(files.map((f) => f.replace(/\.ts$/, '')));
  const removed = [];
  for (const dir of dirs) {
    /** @type {string[]} */
    let outputs;
    try {
      outputs = readdirSync(join(root, 'dist', dir), { recursive: true }).map(String);
    } catch {
      continue; // Not compiled yet.
    }
    for (const o of outputs) {
      const base = /^(.*)\.js(\.map)?$/.exec(o)?.[1];
      if (base !== undefined && !wanted.has(join(dir, base))) {
        rmSync(join(root, 'dist', dir, o));
        removed.push(join('dist', dir, o));
      }
    }
  }
  return removed;
}

const stampText = (files) => `${[...files].sort().join('\n')}\n`;

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
