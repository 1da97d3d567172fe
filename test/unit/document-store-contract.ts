import { beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../lib/errors.js';
import type { DocFilter, DocumentStore } from '../../lib/store/documents.js';

interface Account {
  readonly id: string;
  readonly endpoint: string;
  readonly name: string;
  readonly enabled: boolean;
  readonly uses: number;
  readonly tags?: readonly string[];
}

const account = (id: string, endpoint = 'lab', extra: Partial<Account> = {}): Account => ({
  id,
  endpoint,
  name: `account ${id}`,
  enabled: true,
  uses: 0,
  ...extra,
});

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (e) {
    return e instanceof AppError ? e.code : `not an AppError: ${String(e)}`;
  }
}

/**
 * The behaviour every DocumentStore must have (lib/store/documents.ts). `open` gives a fresh,
 * empty store; run against memory, the embedded database and Cosmos DB.
 */
export function documentStoreContract(
  name: string,
  open: () => Promise<DocumentStore> | DocumentStore,
): void {
  describe(`${name} (document store contract)`, () => {
    let store: DocumentStore;
    beforeEach(async () => {
      store = await open();
    });

    it('ok/create then get returns the document with an etag', async () => {
      const c = store.collection<Account>('accounts');
      const created = await c.create(account('a1', 'lab', { tags: ['x', 'y'] }));
      expect(created.etag).toEqual(expect.any(String));
      const got = await c.get('a1', 'lab');
      expect(got).toEqual({ ...account('a1', 'lab', { tags: ['x', 'y'] }), etag: created.etag });
    });

    it('ok/get in another partition finds nothing', async () => {
      const c = store.collection<Account>('accounts');
      await c.create(account('a1', 'lab'));
      expect(await c.get('a1', 'other')).toBeUndefined();
      expect(await c.get('missing', 'lab')).toBeUndefined();
    });

    it('fail/create of an existing id is CONFLICT and changes nothing', async () => {
      const c = store.collection<Account>('accounts');
      await c.create(account('a1'));
      expect(await codeOf(c.create(account('a1', 'lab', { name: 'other' })))).toBe('CONFLICT');
      expect((await c.get('a1', 'lab'))?.name).toBe('account a1');
    });

    it('ok/the same id in two partitions are two documents', async () => {
      const c = store.collection<Account>('accounts');
      await c.create(account('a1', 'lab'));
      await c.create(account('a1', 'wifi'));
      expect((await c.list()).items.map((d) => d.endpoint).sort()).toEqual(['lab', 'wifi']);
    });

    it('ok/replace with the current etag writes and returns a new etag', async () => {
      const c = store.collection<Account>('accounts');
      const v1 = await c.create(account('a1'));
      const v2 = await c.replace({ ...account('a1'), uses: 1 }, v1.etag);
      expect(v2.etag).not.toBe(v1.etag);
      expect((await c.get('a1', 'lab'))?.uses).toBe(1);
    });

    it('fail/replace with a stale etag is PRECONDITION_FAILED and changes nothing', async () => {
      const c = store.collection<Account>('accounts');
      const v1 = await c.create(account('a1'));
      await c.replace({ ...account('a1'), uses: 1 }, v1.etag);
      expect(await codeOf(c.replace({ ...account('a1'), uses: 5 }, v1.etag))).toBe('PRECONDITION_FAILED');
      expect((await c.get('a1', 'lab'))?.uses).toBe(1);
    });

    it('fail/replace of a missing document is NOT_FOUND', async () => {
      const c = store.collection<Account>('accounts');
      expect(await codeOf(c.replace(account('nope')))).toBe('NOT_FOUND');
    });

    it('ok/concurrent replaces with one etag: exactly one wins', async () => {
      const c = store.collection<Account>('accounts');
      const v1 = await c.create(account('a1'));
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => codeOf(c.replace({ ...account('a1'), uses: i + 1 }, v1.etag))),
      );
      expect(results.filter((r) => r === 'resolved')).toHaveLength(1);
      expect(results.filter((r) => r === 'PRECONDITION_FAILED')).toHaveLength(19);
    });

    it('ok/delete removes; a second delete answers false; stale etag is PRECONDITION_FAILED', async () => {
      const c = store.collection<Account>('accounts');
      const v1 = await c.create(account('a1'));
      await c.replace({ ...account('a1'), uses: 1 }, v1.etag);
      expect(await codeOf(c.delete('a1', 'lab', v1.etag))).toBe('PRECONDITION_FAILED');
      expect(await c.delete('a1', 'lab')).toBe(true);
      expect(await c.delete('a1', 'lab')).toBe(false);
      expect(await c.get('a1', 'lab')).toBeUndefined();
    });

    it('ok/list filters on equality, restricts to a partition, orders by id', async () => {
      const c = store.collection<Account>('accounts');
      await c.create(account('b', 'lab'));
      await c.create(account('a', 'lab', { enabled: false }));
      await c.create(account('c', 'wifi'));
      expect((await c.list()).items.map((d) => d.id)).toEqual(['a', 'b', 'c']);
      expect((await c.list({ enabled: true })).items.map((d) => d.id)).toEqual(['b', 'c']);
      expect((await c.list({}, { partition: 'lab' })).items.map((d) => d.id)).toEqual(['a', 'b']);
      expect((await c.list({ enabled: true }, { partition: 'lab' })).items.map((d) => d.id)).toEqual(['b']);
      expect((await c.list({ name: 'account c' })).items.map((d) => d.id)).toEqual(['c']);
    });

    it('bad/list refuses a filter on a field that is not a plain name, or on a value that is not a scalar', async () => {
      const c = store.collection<Account>('accounts');
      await c.create(account('a'));
      const odd = { 'name") OR 1=1 --': 'x' } as unknown as DocFilter<Account>;
      expect(await codeOf(c.list(odd))).toBe('BAD_REQUEST');
      expect(await codeOf(c.list({ tags: ['x'] } as unknown as DocFilter<Account>))).toBe('BAD_REQUEST');
    });

    it('ok/list pages with top and a continuation token until every document was seen once', async () => {
      const c = store.collection<Account>('accounts');
      for (let i = 0; i < 7; i += 1) await c.create(account(`id-${i}`));
      const seen: string[] = [];
      let token: string | undefined;
      let pages = 0;
      do {
        const page = await c.list(
          {},
          { top: 3, ...(token === undefined ? {} : { continuationToken: token }) },
        );
        expect(page.items.length).toBeLessThanOrEqual(3);
        seen.push(...page.items.map((d) => d.id));
        token = page.continuationToken;
        pages += 1;
      } while (token !== undefined && pages < 10);
      expect(seen).toEqual(['id-0', 'id-1', 'id-2', 'id-3', 'id-4', 'id-5', 'id-6']);
      expect(pages).toBe(3);
    });

    it('bad/list refuses a continuation token the store did not issue', async () => {
      const c = store.collection<Account>('accounts');
      await c.create(account('a'));
      for (const continuationToken of ['abc', '-1', '{', '1.5']) {
        expect(await codeOf(c.list({}, { continuationToken })), continuationToken).toBe('BAD_REQUEST');
      }
    });

    it('ok/an id no stored document can have (a URL path: / ? #) is simply not found', async () => {
      const c = store.collection<Account>('accounts');
      await c.create(account('a'));
      for (const id of ['a#b', 'a?b', 'a/b', 'x'.repeat(300)]) {
        expect(await c.get(id, 'lab'), id).toBeUndefined();
        expect(await c.get('a', id), id).toBeUndefined();
        expect(await c.delete(id, 'lab'), id).toBe(false);
      }
    });

    it('ok/collections are separate', async () => {
      await store.collection<Account>('accounts').create(account('x'));
      expect((await store.collection<{ id: string }>('organizations').list()).items).toEqual([]);
    });

    it('fail/a document without its partition-key field is refused', async () => {
      const c = store.collection<Account>('accounts');
      expect(await codeOf(c.create({ ...account('a1'), endpoint: '' }))).toBe('BAD_REQUEST');
    });

    it('ok/what a caller changes after a read does not change the store', async () => {
      const c = store.collection<Account>('accounts');
      await c.create(account('a1', 'lab', { tags: ['x'] }));
      const got = await c.get('a1', 'lab');
      (got!.tags as string[]).push('mutated');
      expect((await c.get('a1', 'lab'))?.tags).toEqual(['x']);
    });
  });
}
