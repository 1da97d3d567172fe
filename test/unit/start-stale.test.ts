import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pruneOutputs, STAMP, staleSources, writeStamp } from '../../scripts/start-stale.mjs';

/** `npm start` compiles only when a source changed since its last compile (scripts/start.mjs). */

const DIRS = ['functions', 'lib'];
let dir = '';

afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function project(): string {
  dir = mkdtempSync(join(tmpdir(), 'start-stale-'));
  for (const d of [...DIRS, 'lib/nested', 'dist/functions', 'dist/lib/nested'])
    mkdirSync(join(dir, d), { recursive: true });
  for (const f of [
    'functions/a.ts',
    'lib/b.ts',
    'lib/nested/c.ts',
    'lib/types.d.ts',
    'package.json',
    'tsconfig.json',
  ])
    writeFileSync(join(dir, f), '');
  return dir;
}

const at = (root: string, file: string, seconds: number): void => {
  utimesSync(join(root, file), seconds, seconds);
};

/** A project compiled once: its stamp lists its sources and is newer than all of them. */
function compiled(): string {
  const root = project();
  writeStamp(root, staleSources(root, DIRS).files);
  for (const f of ['functions/a.ts', 'lib/b.ts', 'lib/nested/c.ts', 'package.json', 'tsconfig.json'])
    at(root, f, 1_000);
  at(root, STAMP, 2_000);
  return root;
}

describe('npm start compile check', () => {
  it('compiles every TypeScript source, nested ones included, and no declaration file', () => {
    const { files } = staleSources(project(), DIRS);
    expect(files.sort()).toEqual([
      join('functions', 'a.ts'),
      join('lib', 'b.ts'),
      join('lib', 'nested', 'c.ts'),
    ]);
  });

  it('compiles when no compile has been stamped yet', () => {
    expect(staleSources(project(), DIRS).stale).toBe(true);
  });

  it('skips the compile when nothing changed since the stamp', () => {
    expect(staleSources(compiled(), DIRS).stale).toBe(false);
  });

  it.each(['lib/nested/c.ts', 'package.json', 'tsconfig.json'])(
    'compiles again when %s changed',
    (changed) => {
      const root = compiled();
      at(root, changed, 3_000);
      expect(staleSources(root, DIRS).stale).toBe(true);
    },
  );

  it('compiles again when a source was deleted, though nothing is newer than the stamp', () => {
    const root = compiled();
    rmSync(join(root, 'lib/b.ts'));
    expect(staleSources(root, DIRS).stale).toBe(true);
  });

  it('removes the compiled output of a deleted source, and only that', () => {
    const root = project();
    for (const f of [
      'functions/a.js',
      'functions/gone.js',
      'functions/gone.js.map',
      'lib/nested/c.js',
      'lib/nested/c.js.map',
    ])
      writeFileSync(join(root, 'dist', f), '', { flag: 'w' });
    const { files } = staleSources(root, DIRS);
    expect(pruneOutputs(root, DIRS, files).sort()).toEqual([
      join('dist', 'functions', 'gone.js'),
      join('dist', 'functions', 'gone.js.map'),
    ]);
    expect(existsSync(join(root, 'dist', 'functions', 'a.js'))).toBe(true);
    expect(existsSync(join(root, 'dist', 'lib', 'nested', 'c.js.map'))).toBe(true);
  });

  it('a start of this project with nothing changed leaves dist/ as it is', () => {
    const root = join(import.meta.dirname, '..', '..');
    const start = () => {
      const r = spawnSync(process.execPath, ['scripts/start.mjs', '--compile-only'], {
        cwd: root,
        encoding: 'utf8',
      });
      expect(r.status, r.stderr).toBe(0);
      return { stamp: statSync(join(root, STAMP)).mtimeMs, compiled: /compiled/.test(r.stderr) };
    };
    let before = start().stamp;
    // Another test's `npm start` may be compiling a fresh clone meanwhile: allow it one stamp.
    let runs = [start()];
    if (runs[0]!.stamp !== before) {
      before = runs[0]!.stamp;
      runs = [start()];
    }
    expect(runs[0]).toEqual({ stamp: before, compiled: false });
  });
});
