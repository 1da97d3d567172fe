import { setMaxListeners } from 'node:events';
import {
  type Container,
  type CosmosClient,
  ErrorResponse,
  type SqlParameter,
  type SqlQuerySpec,
} from '@azure/cosmos';
import { AppError, dependencyUnavailable, isAppError } from '../errors.js';
import { decodeContinuation, encodeContinuation } from '../store/cosmos-query.js';
import { AUDIT_INDEXING_POLICY, AUDIT_PARTITION_KEY } from '../store/cosmos-schema.js';
import type { AuditEvent } from './event.js';
import {
  EQUALITY_FILTERS,
  auditPageSize,
  type AuditPage,
  type AuditPageRequest,
  type AuditQuery,
  type AuditStore,
} from './store.js';

/**
 * The audit trail on Cosmos DB for NoSQL: container `audit`, partition key `/partition` (the
 * endpoint name, or `_management`), id = event id. One partition per endpoint keeps a busy
 * endpoint's writes from throttling the others, and a query for one endpoint stays in its
 * partition. The container's default TTL is the retention (infra sets it; a local start creates
 * the container with it). Layout and indexing policy: lib/store/cosmos-schema.ts, as infra/
 * creates them.
 */
export interface CosmosAuditOptions {
  readonly client: CosmosClient;
  readonly databaseName: string;
  readonly container: string;
  readonly retentionDays: number;
  readonly timeoutMs: number;
  readonly createIfNotExists: boolean;
}

/** The query as parameterised SQL (never spliced): the same conditions as `matches`. */
export function buildAuditQuery(q: AuditQuery): SqlQuerySpec {
  const where: string[] = [];
  const parameters: SqlParameter[] = [];
  const param = (name: string, value: string | string[]): string => {
    parameters.push({ name: `@${name}`, value });
    return `@${name}`;
  };
  if (q.from !== undefined) where.push(`c.time >= ${param('from', q.from)}`);
  if (q.to !== undefined) where.push(`c.time < ${param('to', q.to)}`);
  for (const key of EQUALITY_FILTERS) {
    const v = q[key];
    if (v !== undefined) where.push(`c.${key} = ${param(key, v)}`);
  }
  if (q.scope !== undefined) {
    const any = q.scope.map((s, i) => {
      const org = `c.organization = ${param(`org${i}`, s.organization)}`;
      if (s.department === undefined) return org;
      return `(${org} AND (NOT IS_DEFINED(c.department) OR c.department = ${param(`dep${i}`, s.department)}))`;
    });
    // An empty scope sees nothing (the store is not asked: see CosmosAuditStore).
    where.push(any.length > 0 ? `(${any.join(' OR ')})` : 'c.id = null');
  }
  if (q.subject !== undefined) {
    const p = param('subject', q.subject);
    where.push(`(c.cn = ${p} OR c.subject = ${p})`);
  }
  const filter = where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '';
  return { query: `SELECT * FROM c${filter} ORDER BY c.time ASC, c.id ASC`, parameters };
}

export class CosmosAuditStore implements AuditStore {
  private readonly container: Container;
  private init: Promise<void> | undefined;

  constructor(private readonly o: CosmosAuditOptions) {
    this.container = o.client.database(o.databaseName).container(o.container);
  }

  append(events: readonly AuditEvent[]): Promise<void> {
    return this.run('append', async (signal) => {
      await this.ready();
      await Promise.all(
        events.map(async (e) => {
          try {
            await this.container.items.create(e, { abortSignal: signal });
          } catch (err) {
            // Already there: an earlier attempt landed although its answer was lost.
            if (!(err instanceof ErrorResponse && err.code === 409)) throw err;
          }
        }),
      );
    });
  }

  query(query: AuditQuery, page: AuditPageRequest = {}): Promise<AuditPage> {
    return this.run('query', async (signal) => {
      await this.ready();
      const size = auditPageSize(page.top);
      let token =
        page.continuationToken === undefined ? undefined : decodeContinuation(page.continuationToken);
      if (page.continuationToken !== undefined && token === undefined) {
        throw new AppError('BAD_REQUEST', 'the continuation token is not valid for this store');
      }
      const items: AuditEvent[] = [];
      do {
        const r = await this.container.items
          .query<AuditEvent>(buildAuditQuery(query), {
            maxItemCount: size - items.length,
            continuationToken: token,
            abortSignal: signal,
            ...partitionOf(query),
          })
          .fetchNext();
        items.push(...r.resources.map(strip));
        token = r.continuationToken === '' ? undefined : r.continuationToken;
      } while (token !== undefined && items.length < size);
      return token === undefined ? { items } : { items, continuationToken: encodeContinuation(token) };
    });
  }

  async *stream(query: AuditQuery): AsyncIterable<AuditEvent> {
    await this.run('query', () => this.ready());
    const iterator = this.container.items.query<AuditEvent>(buildAuditQuery(query), {
      maxItemCount: 1000,
      ...partitionOf(query),
    });
    while (iterator.hasMoreResults()) {
      const r = await this.run('query', () => iterator.fetchNext());
      for (const e of r.resources) yield strip(e);
    }
  }

  private ready(): Promise<void> {
    if (!this.o.createIfNotExists) return Promise.resolve();
    this.init ??= (async () => {
      const { database } = await this.o.client.databases.createIfNotExists({ id: this.o.databaseName });
      await database.containers.createIfNotExists({
        id: this.o.container,
        partitionKey: AUDIT_PARTITION_KEY,
        indexingPolicy: AUDIT_INDEXING_POLICY,
        defaultTtl: this.o.retentionDays * 86_400,
      });
    })().catch((e: unknown) => {
      this.init = undefined;
      throw e;
    });
    return this.init;
  }

  private async run<T>(what: string, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    // One signal serves every document of a batch append.
    setMaxListeners(0, controller.signal);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(
          dependencyUnavailable(`Cosmos DB audit ${what} did not complete within ${this.o.timeoutMs} ms`),
        );
      }, this.o.timeoutMs);
    });
    try {
      return await Promise.race([fn(controller.signal), deadline]);
    } catch (e) {
      if (isAppError(e)) throw e;
      throw new AppError('DEPENDENCY_UNAVAILABLE', `Cosmos DB audit ${what} failed`, { cause: e });
    } finally {
      clearTimeout(timer);
    }
  }
}

/** A query for one endpoint stays in that endpoint's partition. */
function partitionOf(q: AuditQuery): { partitionKey?: string } {
  return q.endpoint === undefined ? {} : { partitionKey: q.endpoint };
}

/** Drop the system properties Cosmos DB adds (_rid, _ts, _etag, _self, _attachments, ttl). */
function strip(doc: AuditEvent): AuditEvent {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(doc)) if (!k.startsWith('_') && k !== 'ttl') out[k] = v;
  return out as unknown as AuditEvent;
}
