import { AppError } from '../errors.js';

/**
 * The management plane's small collections (endpoints, accounts, organizations, administrators'
 * scopes, CA state): documents with an id, a partition and an etag. One narrow port, one
 * contract (test/unit/document-store-contract.ts), one implementation per store (memory, the
 * embedded database, Cosmos DB). Certificates and audit events are large and queried in many
 * ways; they have ports of their own.
 *
 * Concurrency is optimistic, as in Cosmos DB: every write returns a fresh etag, and a write that
 * names the etag it read (`ifMatch`) fails with PRECONDITION_FAILED when someone wrote since.
 * That is what makes a one-time challenge single-use under concurrent enrollments.
 */
export interface Doc {
  readonly id: string;
}

export type Stored<T extends Doc> = T & { readonly etag: string };

/** Equality on top-level fields; every condition must hold. */
export type DocFilter<T> = { readonly [K in keyof T]?: T[K] & (string | number | boolean) };

export interface DocPage<T extends Doc> {
  readonly items: Stored<T>[];
  readonly continuationToken?: string;
}

export interface DocumentCollection<T extends Doc> {
  /** The partition a document belongs to (Cosmos DB partition key value). */
  readonly partitionOf: (doc: T) => string;
  get(id: string, partition: string): Promise<Stored<T> | undefined>;
  /** Create; CONFLICT when the id exists in the partition. */
  create(doc: T): Promise<Stored<T>>;
  /** Replace an existing document; NOT_FOUND if absent, PRECONDITION_FAILED if `ifMatch` is stale. */
  replace(doc: T, ifMatch?: string): Promise<Stored<T>>;
  /** Delete; false when absent; PRECONDITION_FAILED if `ifMatch` is stale. */
  delete(id: string, partition: string, ifMatch?: string): Promise<boolean>;
  /** Documents matching `filter` (optionally in one partition), ordered by id, paged. */
  list(
    filter?: DocFilter<T>,
    page?: { readonly partition?: string; readonly top?: number; readonly continuationToken?: string },
  ): Promise<DocPage<T>>;
}

/**
 * Every page of `filter`'s documents (optionally in one partition), `MAX_PAGE_SIZE` at a time,
 * following the store's continuation tokens: for the few places that must see them all.
 */
export async function* allPages<T extends Doc>(
  c: DocumentCollection<T>,
  filter: DocFilter<T> = {},
  partition?: string,
): AsyncIterable<readonly Stored<T>[]> {
  let token: string | undefined;
  do {
    const page = await c.list(filter, {
      top: MAX_PAGE_SIZE,
      ...(partition === undefined ? {} : { partition }),
      ...(token === undefined ? {} : { continuationToken: token }),
    });
    yield page.items;
    token = page.continuationToken;
  } while (token !== undefined);
}

/** The collections every store provides, by name (Cosmos DB container names). */
export interface DocumentStore {
  collection<T extends Doc>(name: CollectionName): DocumentCollection<T>;
}

/** Container / table names and partition keys; infra/ creates the same containers. */
export const COLLECTIONS = {
  endpoints: { partitionKey: 'id' },
  accounts: { partitionKey: 'endpoint' },
  organizations: { partitionKey: 'id' },
  admins: { partitionKey: 'id' },
  state: { partitionKey: 'id' },
} as const;
export type CollectionName = keyof typeof COLLECTIONS;

/** The partition function for a collection, from its partition-key field. */
export function partitionFunction(name: CollectionName): (doc: Doc) => string {
  const field = COLLECTIONS[name].partitionKey;
  return (doc) => {
    const v = (doc as unknown as Record<string, unknown>)[field];
    if (typeof v !== 'string' || v === '') {
      throw new AppError('BAD_REQUEST', `a ${name} document needs a non-empty ${field}`);
    }
    return v;
  };
}

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 1000;

export function pageSize(top: number | undefined): number {
  if (top === undefined) return DEFAULT_PAGE_SIZE;
  return Math.max(1, Math.min(MAX_PAGE_SIZE, Math.trunc(top)));
}

export const preconditionFailed = (what: string): AppError =>
  new AppError('PRECONDITION_FAILED', `${what} was changed by someone else; read it again`);

/**
 * What every store's collection shares: its name, its partition function, the refusals of the
 * contract (worded alike whatever the store), and the filter conditions it accepts.
 */
export abstract class CollectionBase<T extends Doc> {
  readonly partitionOf: (doc: T) => string;

  constructor(protected readonly name: CollectionName) {
    this.partitionOf = partitionFunction(name);
  }

  /** CONFLICT: `create` of an id the partition already holds. */
  protected exists(id: string): AppError {
    return new AppError('CONFLICT', `${this.name} '${id}' already exists`);
  }

  /** NOT_FOUND: `replace` of a document that is not there. */
  protected missing(id: string): AppError {
    return new AppError('NOT_FOUND', `${this.name} '${id}' not found`);
  }

  /** PRECONDITION_FAILED: an `ifMatch` etag someone else's write made stale. */
  protected stale(id: string): AppError {
    return preconditionFailed(`${this.name} '${id}'`);
  }

  /** The filter's conditions; field names are plain identifiers, values strings, numbers or booleans. */
  protected conditions(filter: DocFilter<T>): [string, string | number | boolean][] {
    return (Object.entries(filter) as [string, unknown][]).map(([field, value]) => {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(field)) {
        throw new AppError('BAD_REQUEST', `cannot filter on the field '${field}'`);
      }
      if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
        throw new AppError('BAD_REQUEST', `cannot filter '${field}' on a value of type ${typeof value}`);
      }
      return [field, value];
    });
  }
}
