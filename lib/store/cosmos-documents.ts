import type { Container, CosmosClient, SqlParameter } from '@azure/cosmos';
import { AppError, isAppError } from '../errors.js';
import {
  COLLECTIONS,
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
import { isStorableId, statusOf } from './cosmos-calls.js';
import { decodeContinuation, encodeContinuation } from './cosmos-query.js';
import { DOCUMENT_CONTAINERS } from './cosmos-schema.js';

/**
 * The management plane's collections on Cosmos DB: one container per collection, named,
 * partitioned and indexed as DOCUMENT_CONTAINERS says (infra/ creates the same containers in
 * Azure; the store creates them itself only on a local start). The document
 * is stored as given; Cosmos DB's `_etag` is the etag, and writes that name one send it as
 * If-Match (412 → PRECONDITION_FAILED).
 */
export interface CosmosDocumentsOptions {
  readonly client: CosmosClient;
  readonly databaseName: string;
  /** Deadline for one call, milliseconds. */
  readonly timeoutMs: number;
  /** Create the database and containers on first use (local only). */
  readonly createIfNotExists: boolean;
}

const SYSTEM = new Set(['_rid', '_self', '_etag', '_ts', '_attachments', '_lsn']);

class CosmosCollection<T extends Doc> extends CollectionBase<T> implements DocumentCollection<T> {
  private readonly container: Container;
  private init: Promise<void> | undefined;

  constructor(
    private readonly options: CosmosDocumentsOptions,
    name: CollectionName,
  ) {
    super(name);
    this.container = options.client.database(options.databaseName).container(name);
  }

  get(id: string, partition: string): Promise<Stored<T> | undefined> {
    // An id Cosmos DB cannot hold (a URL path: / ? #) names no document; asked, it fails the read.
    if (!isStorableId(id) || !isStorableId(partition)) return Promise.resolve(undefined);
    return this.run('read', async (abortSignal) => {
      const { resource } = await this.container.item(id, partition).read<T>({ abortSignal });
      return resource === undefined ? undefined : stored<T>(resource);
    });
  }

  create(doc: T): Promise<Stored<T>> {
    return this.run('create', async (abortSignal) => {
      this.partitionOf(doc); // a document without its partition key is refused before any request
      try {
        const { resource } = await this.container.items.create<T>(doc, { abortSignal });
        return stored<T>(resource ?? doc);
      } catch (e) {
        if (statusOf(e) === 409) throw this.exists(doc.id);
        throw e;
      }
    });
  }

  replace(doc: T, ifMatch?: string): Promise<Stored<T>> {
    return this.run('replace', async (abortSignal) => {
      const partition = this.partitionOf(doc);
      try {
        const { resource } = await this.container.item(doc.id, partition).replace<T>(doc, {
          abortSignal,
          ...(ifMatch === undefined ? {} : { accessCondition: { type: 'IfMatch', condition: ifMatch } }),
        });
        return stored<T>(resource ?? doc);
      } catch (e) {
        if (statusOf(e) === 404) throw this.missing(doc.id);
        if (statusOf(e) === 412) throw this.stale(doc.id);
        throw e;
      }
    });
  }

  delete(id: string, partition: string, ifMatch?: string): Promise<boolean> {
    if (!isStorableId(id) || !isStorableId(partition)) return Promise.resolve(false);
    return this.run('delete', async (abortSignal) => {
      try {
        await this.container.item(id, partition).delete({
          abortSignal,
          ...(ifMatch === undefined ? {} : { accessCondition: { type: 'IfMatch', condition: ifMatch } }),
        });
        return true;
      } catch (e) {
        if (statusOf(e) === 404) return false;
        if (statusOf(e) === 412) throw this.stale(id);
        throw e;
      }
    });
  }

  list(
    filter: DocFilter<T> = {},
    page: { partition?: string; top?: number; continuationToken?: string } = {},
  ): Promise<DocPage<T>> {
    return this.run('list', async (abortSignal) => {
      const where: string[] = [];
      const parameters: SqlParameter[] = [];
      for (const [i, [field, value]] of this.conditions(filter).entries()) {
        where.push(`c["${field}"] = @v${i}`);
        parameters.push({ name: `@v${i}`, value });
      }
      if (page.partition !== undefined) {
        // Also as a condition: the partitionKey option alone scopes the query in Cosmos DB, not
        // in every Cosmos-compatible server.
        where.push(`c["${COLLECTIONS[this.name].partitionKey}"] = @partition`);
        parameters.push({ name: '@partition', value: page.partition });
      }
      const size = pageSize(page.top);
      let token =
        page.continuationToken === undefined ? undefined : decodeContinuation(page.continuationToken);
      if (page.continuationToken !== undefined && token === undefined) {
        throw new AppError('BAD_REQUEST', 'the continuation token is not valid for this store');
      }
      const query = {
        query: `SELECT * FROM c${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY c.id`,
        parameters,
      };
      const items: Stored<T>[] = [];
      do {
        const result = await this.container.items
          .query<T>(query, {
            abortSignal,
            maxItemCount: size - items.length,
            continuationToken: token,
            ...(page.partition === undefined ? {} : { partitionKey: page.partition }),
          })
          .fetchNext();
        items.push(...result.resources.map((r) => stored<T>(r)));
        token = result.continuationToken === '' ? undefined : result.continuationToken;
      } while (token !== undefined && items.length < size);
      return token === undefined ? { items } : { items, continuationToken: encodeContinuation(token) };
    });
  }

  private async run<R>(what: string, fn: (signal: AbortSignal) => Promise<R>): Promise<R> {
    const controller = new AbortController();
    const timer = setTimeout(() => {
      controller.abort();
    }, this.options.timeoutMs);
    try {
      await this.ready(controller.signal);
      return await fn(controller.signal);
    } catch (e) {
      if (isAppError(e)) throw e;
      throw new AppError('DEPENDENCY_UNAVAILABLE', `Cosmos DB ${what} in ${this.name} failed`, {
        cause: e,
        detail: { status: statusOf(e) },
      });
    } finally {
      clearTimeout(timer);
    }
  }

  private ready(abortSignal: AbortSignal): Promise<void> {
    if (!this.options.createIfNotExists) return Promise.resolve();
    this.init ??= (async () => {
      const { database } = await this.options.client.databases.createIfNotExists(
        { id: this.options.databaseName },
        { abortSignal },
      );
      await database.containers.createIfNotExists(
        { id: this.name, ...DOCUMENT_CONTAINERS[this.name] },
        { abortSignal },
      );
    })().catch((e: unknown) => {
      this.init = undefined;
      throw e;
    });
    return this.init;
  }
}

/** The document as the caller wrote it, Cosmos DB's system properties dropped, `_etag` as etag. */
function stored<T extends Doc>(resource: T): Stored<T> {
  const raw = resource as unknown as Record<string, unknown>;
  const body = Object.fromEntries(Object.entries(raw).filter(([k]) => !SYSTEM.has(k)));
  const etag = raw._etag;
  if (typeof etag !== 'string') throw new AppError('INTERNAL', 'Cosmos DB returned a document without _etag');
  return { ...(body as unknown as T), etag };
}

export class CosmosDocumentStore implements DocumentStore {
  private readonly collections = new Map<CollectionName, CosmosCollection<Doc>>();

  constructor(private readonly options: CosmosDocumentsOptions) {}

  collection<T extends Doc>(name: CollectionName): DocumentCollection<T> {
    let c = this.collections.get(name);
    if (!c) {
      c = new CosmosCollection<Doc>(this.options, name);
      this.collections.set(name, c);
    }
    return c as unknown as DocumentCollection<T>;
  }
}
