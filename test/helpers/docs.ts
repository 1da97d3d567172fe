import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The documentation's own commands, for tests that run a walk-through as written: when the page
 * changes, the test runs the new text (and fails if it no longer works).
 */

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A documentation file by its path from the repository root, e.g. `docs/rest.md`. */
export function readDoc(path: string): string {
  return readFileSync(join(REPO_ROOT, path), 'utf8');
}

/**
 * The text under a heading (the line that starts with `heading`, e.g. "## 3. Request a
 * certificate") up to the next heading of the same or a higher level.
 */
export function docSection(path: string, heading: string, markdown: string = readDoc(path)): string {
  const level = /^#+/.exec(heading)?.[0].length ?? 0;
  if (level === 0) throw new Error(`"${heading}" is not a markdown heading`);
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => l.startsWith(heading));
  if (start < 0) throw new Error(`${path} has no heading starting with "${heading}"`);
  let end = lines.length;
  let fenced = false;
  for (let i = start + 1; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line.startsWith('```')) fenced = !fenced;
    const h = fenced ? undefined : /^(#+) /.exec(line);
    if (h?.[1] !== undefined && h[1].length <= level) {
      end = i;
      break;
    }
  }
  return lines.slice(start, end).join('\n');
}

/**
 * The fenced ```sh blocks of a markdown text, in order, without their fences; a block indented
 * under a list item loses that indentation.
 */
export function shellBlocks(markdown: string): string[] {
  const out: string[] = [];
  const re = /^( *)```(?:sh|bash|shell)\n([\s\S]*?)^\1```$/gm;
  for (const m of markdown.matchAll(re)) {
    const indent = m[1] ?? '';
    out.push((m[2] ?? '').replace(new RegExp(`^${indent}`, 'gm'), ''));
  }
  return out;
}
