import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Files } from '../helpers/bicep-eval.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const read = (p: string): string => readFileSync(join(ROOT, p), 'utf8');

/** infra/ as a map of repository path -> text: the input of every check in test/infra/checks.ts. */
export function infraFiles(): Files {
  const files: Record<string, string> = {};
  for (const f of readdirSync(join(ROOT, 'infra'), { recursive: true, encoding: 'utf8' })) {
    if (f.endsWith('.bicep') || f.endsWith('.json')) files[join('infra', f)] = read(join('infra', f));
  }
  return files;
}

/** Application code that runs in Azure: lib/ and functions/ (scripts/ are local tools). */
export const APP_CODE: readonly { readonly f: string; readonly text: string }[] = [
  'lib',
  'functions',
].flatMap((dir) =>
  readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => ({ f: join(dir, f), text: read(join(dir, f)) })),
);
export const usesPackage = (pkg: string): boolean => APP_CODE.some(({ text }) => text.includes(`'${pkg}'`));
