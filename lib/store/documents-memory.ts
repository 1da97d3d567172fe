import { randomUUID } from 'node:crypto';
import { AppError } from '../errors.js';
import {
  CollectionBase,
  pageSize,
  type CollectionName,
  type Doc,
  type DocFilter,
  type DocPage,
  type DocumentCollection,
  type DocumentStore,
  type Stored,
} from './documents.js';

/** In-process documents for tests and the memory store. Copies in and out, as a database would. */
class MemoryCollection<T extends Doc> extends CollectionBase<T> implements DocumentCollection<T> {
  private readonly docs = new Map<string, Stored<T>>();

  private key(partition: string, id: string): string {
    return `${partition}\u0000${id}`;
  }

  get(id: string, partition: string): Promise<Stored<T> | undefined> {
    const d = this.docs.get(this.key(partition, id));
    return Promise.resolve(d && structuredClone(d));
  }

  create(doc: T): Promise<Stored<T>> {
    return settle(() => {
      const k = this.key(this.partitionOf(doc), doc.id);
      if (this.docs.has(k)) throw this.exists(doc.id);
      return this.put(k, doc);
    });
  }

  replace(doc: T, ifMatch?: string): Promise<Stored<T>> {
    return settle(() => {
      const k = this.key(this.partitionOf(doc), doc.id);
      const current = this.docs.get(k);
      if (!current) throw this.missing(doc.id);
      if (ifMatch !== undefined && current.etag !== ifMatch) throw this.stale(doc.id);
      return this.put(k, doc);
    });
  }

  delete(id: string, partition: string, ifMatch?: string): Promise<boolean> {
    const k = this.key(partition, id);
    const current = this.docs.get(k);
    if (!current) return Promise.resolve(false);
    if (ifMatch !== undefined && current.etag !== ifMatch) {
      return Promise.reject(this.stale(id));
    }
    this.docs.delete(k);
    return Promise.resolve(true);
  }

  list(
    filter: DocFilter<T> = {},
    page: { partition?: string; top?: number; continuationToken?: string } = {},
  ): Promise<DocPage<T>> {
    return settle(() => {
      const conditions = this.conditions(filter);
      const all = [...this.docs.values()]
        .filter((d) => page.partition === undefined || this.partitionOf(d) === page.partition)
        .filter((d) => conditions.every(([f, v]) => (d as unknown as Record<string, unknown>)[f] === v))
        .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      // Its own tokens are offsets; anything else would silently read from the start or the end.
      if (page.continuationToken !== undefined && !/^\d{1,9}$/.test(page.continuationToken)) {
        throw new AppError('BAD_REQUEST', 'the continuation token is not valid for this store');
      }
      const start = page.continuationToken === undefined ? 0 : Number(page.continuationToken);
      const size = pageSize(page.top);
      const items = all.slice(start, start + size).map((d) => structuredClone(d));
      return start + size < all.length ? { items, continuationToken: String(start + size) } : { items };
    });
  }

  private put(k: string, doc: T): Stored<T> {
    const stored = { ...structuredClone(doc), etag: randomUUID() } as Stored<T>;
    this.docs.set(k, stored);
    return structuredClone(stored);
  }
}

/** Runs `f` now; what it throws becomes a rejection, as it would from a database. */
function settle<R>(f: () => R): Promise<R> {
  try {
    return Promise.resolve(f());
  } catch (e) {
    return Promise.reject(e instanceof Error ? e : new Error(String(e)));
  }
}

export class MemoryDocumentStore implements DocumentStore {
  private readonly collections = new Map<CollectionName, MemoryCollection<Doc>>();

  collection<T extends Doc>(name: CollectionName): DocumentCollection<T> {
    let c = this.collections.get(name);
    if (!c) {
      c = new MemoryCollection<Doc>(name);
      this.collections.set(name, c);
    }
    return c as unknown as DocumentCollection<T>;
  }
}
