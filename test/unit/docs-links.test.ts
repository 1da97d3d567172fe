import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readDoc, REPO_ROOT } from '../helpers/docs.js';

/**
 * The README is the front page and docs/ holds the reference: every relative link and image in
 * them must point at a file that exists, and every #anchor at a heading of that file (GitHub's
 * heading ids), so a moved or renamed section cannot leave a dead link behind.
 */

function markdownFiles(dir: string): string[] {
  return readdirSync(join(REPO_ROOT, dir)).flatMap((name) => {
    const path = `${dir}/${name}`;
    if (statSync(join(REPO_ROOT, path)).isDirectory()) return markdownFiles(path);
    return name.endsWith('.md') ? [path] : [];
  });
}

const PAGES = ['README.md', ...markdownFiles('docs')];

/** The text outside fenced code blocks and inline code, where links are links. */
function prose(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```$/gm, '').replace(/``[^`]*``|`[^`\n]*`/g, '');
}

/** GitHub's heading ids: lower case, punctuation dropped, spaces as dashes, repeats numbered. */
function headingIds(markdown: string): Set<string> {
  const ids = new Set<string>();
  const seen = new Map<string, number>();
  const withoutCode = markdown.replace(/^```[\s\S]*?^```$/gm, '');
  for (const m of withoutCode.matchAll(/^#{1,6} (.+)$/gm)) {
    const text = (m[1] ?? '').replace(/\[([^\]]*)\]\([^)]*\)/g, '$1');
    const slug = text
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    ids.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return ids;
}

interface Link {
  readonly page: string;
  readonly target: string;
}

function relativeLinks(page: string): Link[] {
  const out: Link[] = [];
  for (const m of prose(readDoc(page)).matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
    const target = m[1] ?? '';
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
    out.push({ page, target });
  }
  return out;
}

/** Why a link does not resolve, or undefined when it does. */
function problem({ page, target }: Link): string | undefined {
  const [path = '', anchor] = target.split('#', 2);
  const file = path === '' ? page : relative(REPO_ROOT, join(REPO_ROOT, dirname(page), decodeURI(path)));
  if (!existsSync(join(REPO_ROOT, file))) return `${page}: ${target} → ${file} does not exist`;
  if (anchor === undefined || anchor === '') return undefined;
  if (!file.endsWith('.md')) return `${page}: ${target} → an anchor into a file that is not markdown`;
  return headingIds(readDoc(file)).has(anchor)
    ? undefined
    : `${page}: ${target} → ${file} has no heading #${anchor}`;
}

describe('documentation links', () => {
  it('finds the front page and the reference pages, with links in them', () => {
    expect(PAGES).toContain('README.md');
    expect(PAGES.length).toBeGreaterThan(10);
    expect(PAGES.flatMap(relativeLinks).length).toBeGreaterThan(50);
  });

  it('every relative link and image in README.md and docs/ resolves to a file and a heading', () => {
    expect(PAGES.flatMap(relativeLinks).flatMap((l) => problem(l) ?? [])).toEqual([]);
  });

  it('every docs page is linked from the README', () => {
    const linked = new Set(
      relativeLinks('README.md').map((l) => l.target.split('#', 1)[0]?.replace(/^\.\//, '')),
    );
    expect(PAGES.filter((p) => p !== 'README.md' && !linked.has(p))).toEqual([]);
  });

  it('a dead file, a dead anchor and a code span are told apart', () => {
    expect(problem({ page: 'README.md', target: 'docs/no-such-page.md' })).toMatch(/does not exist/);
    expect(problem({ page: 'README.md', target: 'docs/rest.md#no-such-heading' })).toMatch(/no heading/);
    expect(problem({ page: 'docs/rest.md', target: 'mdm.md#what-to-paste-into-your-mdm' })).toBeUndefined();
    expect(headingIds('# A `b` (c)\n## Settings\n## Settings\n```\n# not a heading\n```')).toEqual(
      new Set(['a-b-c', 'settings', 'settings-1']),
    );
    expect(relativeLinks('README.md').some((l) => l.target.includes('`'))).toBe(false);
  });
});
