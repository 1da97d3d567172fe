import { MAX_PAGE_SIZE } from '../store/documents.js';
import type { PageRequest } from './paging.js';
import type { Actor } from './roles.js';

/** One page as a store answers it: its items and where the next page starts. */
export interface StorePage<T> {
  readonly items: T[];
  readonly continuationToken?: string | undefined;
}

/** Reads one store page of at most `top` items from `continuationToken`. */
export type PageReader<T> = (page: { top: number; continuationToken?: string }) => Promise<StorePage<T>>;

/**
 * A full page of the items `keep` lets through, for callers whose scope the store query cannot
 * express. A store page filtered afterwards comes back short or empty while more matches follow;
 * this keeps reading, asking each time for no more than the matches still missing so that no
 * match is ever read and then dropped, and the store's own token stays exact. Once the page is
 * full it reads on to the next match: the token returned is the one that page starts at, and a
 * caller who has seen every match gets no token, never an empty last page.
 */
export async function scopedPage<T>(
  read: PageReader<T>,
  keep: (item: T) => boolean,
  top: number,
  continuationToken: string | undefined,
): Promise<StorePage<T>> {
  const items: T[] = [];
  let token = continuationToken;
  while (items.length < top) {
    const r = await read({
      top: top - items.length,
      ...(token !== undefined ? { continuationToken: token } : {}),
    });
    items.push(...r.items.filter(keep));
    token = r.continuationToken;
    if (token === undefined) return { items };
  }
  let next: string | undefined = token;
  while (next !== undefined) {
    const r = await read({ top, continuationToken: next });
    if (r.items.some(keep)) return { items, continuationToken: next };
    next = r.continuationToken;
  }
  return { items };
}

/**
 * The page an actor asked for: straight from the store for CA.Admin's whole-CA scope, empty for
 * an empty scope, else filled with what `keep` (the actor's scope) lets through.
 */
export function pageFor<T>(
  actor: Actor,
  read: PageReader<T>,
  keep: (item: T) => boolean,
  page: PageRequest,
  defaultTop: number,
): Promise<StorePage<T>> {
  const top = Math.max(1, Math.min(MAX_PAGE_SIZE, Math.trunc(page.top ?? defaultTop)));
  if (actor.scope === 'all') {
    return read({
      top,
      ...(page.continuationToken !== undefined ? { continuationToken: page.continuationToken } : {}),
    });
  }
  // A role without any administrators document sees nothing: reading the whole store to find
  // no match would cost a full scan per request.
  if (actor.scope.length === 0) return Promise.resolve({ items: [] });
  return scopedPage(read, keep, top, page.continuationToken);
}
