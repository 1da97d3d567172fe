import { describe, expect, it } from 'vitest';
import type { Actor } from '../../lib/admin/roles.js';
import { pageFor } from '../../lib/admin/scoped-page.js';

/** A store of `n` items read page by page, counting its reads. */
function store(n: number) {
  const reads = { n: 0 };
  const items = Array.from({ length: n }, (_, i) => ({ organization: 'org-b', i }));
  const read = (p: { top: number; continuationToken?: string }) => {
    reads.n += 1;
    const start = Number(p.continuationToken ?? 0);
    const next = start + p.top;
    const page = items.slice(start, next);
    return Promise.resolve(next < n ? { items: page, continuationToken: String(next) } : { items: page });
  };
  return { read, reads };
}

describe('scoped pages', () => {
  it('ok/a caller with a role but no scope gets an empty page without the store being read', async () => {
    const s = store(500);
    const nobody: Actor = { id: 'entra:x', role: 'CA.Operator', scope: [] };
    const r = await pageFor(nobody, s.read, () => false, { top: 10 }, 100);
    expect(r).toEqual({ items: [] });
    expect(s.reads.n).toBe(0);
  });
});
