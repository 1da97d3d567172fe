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
import { decodeKeyset, encodeKeyset, settleSql, sqliteCode, type Sqlite } from './sqlite.js';

interface Row {
  readonly id: string;
  readonly partition: string;
  readonly etag: string;
  readonly body: string;
}

const TOKEN = 'd1.';

/**
 * The management plane's collections in the embedded database: one `documents` table keyed by
 * (collection, partition, id), the body as JSON, a fresh etag per write. Lists are ordered by
 * (id, partition) and continue after the last row seen; equality filters compare the JSON
 * value and its JSON type, so `true`, `1` and `"1"` stay different, as in Cosmos DB.
 */
class SqliteCollection<T extends Doc> extends CollectionBase<T> implements DocumentCollection<T> {
  constructor(
    private readonly db: Sqlite,
    name: CollectionName,
  ) {
    super(name);
  }

  get(id: string, partition: string): Promise<Stored<T> | undefined> {
    return settleSql('read a document', () => {
      const row = this.db
        .prepare(
          'SELECT id, partition, etag, body FROM documents WHERE collection = ? AND partition = ? AND id = ?',
        )
        .get(this.name, partition, id);
      return row === undefined ? undefined : toStored<T>(row as Row);
    });
  }

  create(doc: T): Promise<Stored<T>> {
    return settleSql('create a document', () => {
      const etag = randomUUID();
      try {
        this.db
          .prepare('INSERT INTO documents (collection, partition, id, etag, body) VALUES (?, ?, ?, ?, ?)')
          .run(this.name, this.partitionOf(doc), doc.id, etag, JSON.stringify(doc));
      } catch (e) {
        if (sqliteCode(e) === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
          throw this.exists(doc.id);
        }
        throw e;
      }
      return { ...structuredClone(doc), etag };
    });
  }

  replace(doc: T, ifMatch?: string): Promise<Stored<T>> {
    return settleSql('replace a document', () => {
      const partition = this.partitionOf(doc);
      const etag = randomUUID();
      const r = this.db
        .prepare(
          `UPDATE documents SET etag = ?, body = ?
           WHERE collection = ? AND partition = ? AND id = ? AND (? IS NULL OR etag = ?)`,
        )
        .run(etag, JSON.stringify(doc), this.name, partition, doc.id, ifMatch ?? null, ifMatch ?? null);
      if (r.changes === 0) throw this.missingOrStale(doc.id, partition);
      return { ...structuredClone(doc), etag };
    });
  }

  delete(id: string, partition: string, ifMatch?: string): Promise<boolean> {
    return settleSql('delete a document', () => {
      const r = this.db
        .prepare(
          'DELETE FROM documents WHERE collection = ? AND partition = ? AND id = ? AND (? IS NULL OR etag = ?)',
        )
        .run(this.name, partition, id, ifMatch ?? null, ifMatch ?? null);
      if (r.changes === 1) return true;
      const e = this.missingOrStale(id, partition);
      if (e.code === 'NOT_FOUND') return false;
      throw e;
    });
  }

  list(
    filter: DocFilter<T> = {},
    page: { partition?: string; top?: number; continuationToken?: string } = {},
  ): Promise<DocPage<T>> {
    return settleSql('list documents', () => {
      const where = ['collection = ?'];
      const params: (string | number)[] = [this.name];
      if (page.partition !== undefined) {
        where.push('partition = ?');
        params.push(page.partition);
      }
      for (const [field, value] of this.conditions(filter)) {
        const { clause, values } = equality(field, value);
        where.push(clause);
        params.push(...values);
      }
      if (page.continuationToken !== undefined) {
        const [id = '', partition = ''] = decodeKeyset(TOKEN, page.continuationToken, 2);
        where.push('(id > ? OR (id = ? AND partition > ?))');
        params.push(id, id, partition);
      }
      const size = pageSize(page.top);
      const rows = this.db
        .prepare(
          `SELECT id, partition, etag, body FROM documents WHERE ${where.join(' AND ')}
           ORDER BY id, partition LIMIT ?`,
        )
        .all(...params, size + 1) as Row[];
      const items = rows.slice(0, size).map((r) => toStored<T>(r));
      const last = rows[size - 1];
      return rows.length > size && last
        ? { items, continuationToken: encodeKeyset(TOKEN, [last.id, last.partition]) }
        : { items };
    });
  }

  private missingOrStale(id: string, partition: string): AppError {
    const exists = this.db
      .prepare('SELECT 1 FROM documents WHERE collection = ? AND partition = ? AND id = ?')
      .get(this.name, partition, id);
    return exists === undefined ? this.missing(id) : this.stale(id);
  }
}

/** `field = value` on the JSON body, type included (field names checked by `conditions`). */
function equality(
  field: string,
  value: string | number | boolean,
): { clause: string; values: (string | number)[] } {
  const path = `$.${field}`;
  if (typeof value === 'boolean') {
    return { clause: 'json_type(body, ?) = ?', values: [path, value ? 'true' : 'false'] };
  }
  if (typeof value === 'number') {
    return {
      clause: "json_type(body, ?) IN ('integer', 'real') AND json_extract(body, ?) = ?",
      values: [path, path, value],
    };
  }
  return {
    clause: "json_type(body, ?) = 'text' AND json_extract(body, ?) = ?",
    values: [path, path, value],
  };
}

function toStored<T extends Doc>(row: Row): Stored<T> {
  const body: unknown = JSON.parse(row.body);
  if (typeof body !== 'object' || body === null) {
    throw new AppError('INTERNAL', 'a stored document is not an object');
  }
  return { ...(body as T), etag: row.etag };
}

export class SqliteDocumentStore implements DocumentStore {
  constructor(private readonly db: Sqlite) {}

  collection<T extends Doc>(name: CollectionName): DocumentCollection<T> {
    return new SqliteCollection<T>(this.db, name);
  }
}
