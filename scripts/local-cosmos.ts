import { randomBytes } from 'node:crypto';
import { mkdir, open, rename } from 'node:fs/promises';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { CosmosClient, type ItemDefinition } from '@azure/cosmos';
import { createHttpServer } from '@vercel/cosmosdb-server';
import { loadSnapshot, SNAPSHOT_FORMAT, type Snapshot } from './local-snapshot.js';

/**
 * The embedded default's Cosmos DB: @vercel/cosmosdb-server in process on 127.0.0.1, plain HTTP
 * (clients must turn endpoint discovery off; createCosmosStore does for http:// endpoints).
 * The server keeps data in memory only, so every database, container definition and document
 * is snapshotted to `dataFile` (written to a temporary file, fsynced, then renamed over the old
 * one: a crash leaves the previous or the new snapshot, never half of one) at most `debounceMs`
 * after a successful write (bursts share one snapshot) and on close(), and loaded back at start.
 */
export interface LocalCosmosOptions {
  /** Snapshot file, e.g. `.data/cosmos.json` (its folder is created). */
  readonly dataFile: string;
  /** Listen port; default 0 (any free port). */
  readonly port?: number;
  /** Writes within this many ms of the first unsaved one share one snapshot; default 200. */
  readonly debounceMs?: number;
  /** Where snapshot failures are reported; default console.error. */
  readonly onError?: (message: string) => void;
}

export interface LocalCosmos {
  readonly endpoint: string;
  /** Any key is accepted by the server; a random one per start. */
  readonly key: string;
  /** Resolves once every write acknowledged so far is in `dataFile`. */
  flush(): Promise<void>;
  /** Final snapshot, then stop the server. */
  close(): Promise<void>;
}

export async function startLocalCosmos(options: LocalCosmosOptions): Promise<LocalCosmos> {
  const onError =
    options.onError ??
    ((m: string) => {
      console.error(m);
    });
  const { server, endpoint, key, client } = await startRestored(options);

  let dirty = false;
  let timer: NodeJS.Timeout | undefined;
  let chain: Promise<void> = Promise.resolve();
  const save = (): Promise<void> => {
    chain = chain.then(async () => {
      if (!dirty) return;
      dirty = false;
      try {
        await writeSnapshot(options.dataFile, await takeSnapshot(client));
      } catch (e) {
        dirty = true;
        onError(`local Cosmos DB snapshot to ${options.dataFile} failed: ${String(e)}`);
      }
    });
    return chain;
  };
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (!isWrite(req)) return;
    res.once('finish', () => {
      if (res.statusCode >= 400) return;
      dirty = true;
      // Not reset by later writes: under steady load a snapshot still follows within debounceMs.
      timer ??= setTimeout(() => {
        timer = undefined;
        void save();
      }, options.debounceMs ?? 200);
    });
  });

  return {
    endpoint,
    key,
    flush: () => {
      clearTimeout(timer);
      timer = undefined;
      return save();
    },
    close: async () => {
      clearTimeout(timer);
      timer = undefined;
      await save();
      await stop(server, client);
    },
  };
}

/** The server listening, with the snapshot in `dataFile` (if any) loaded back into it. */
async function startRestored(
  options: LocalCosmosOptions,
): Promise<{ server: Server; endpoint: string; key: string; client: CosmosClient }> {
  const snapshot = await loadSnapshot(options.dataFile);
  const server = createHttpServer();
  await listen(server, options.port ?? 0);
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}/`;
  const key = randomBytes(32).toString('base64');
  const client = new CosmosClient({ endpoint, key, connectionPolicy: { enableEndpointDiscovery: false } });
  try {
    if (snapshot) await restore(client, snapshot);
  } catch (e) {
    await stop(server, client);
    throw e;
  }
  return { server, endpoint, key, client };
}

/** Writes change data; queries are POSTs too, told apart by their headers (as the server's router does). */
function isWrite(req: IncomingMessage): boolean {
  if (req.method === 'PUT' || req.method === 'PATCH' || req.method === 'DELETE') return true;
  if (req.method !== 'POST') return false;
  const isQuery =
    String(req.headers['x-ms-documentdb-isquery']).toLowerCase() === 'true' ||
    req.headers['content-type'] === 'application/query+json' ||
    String(req.headers['x-ms-cosmos-is-query-plan-request']).toLowerCase() === 'true';
  return !isQuery;
}

async function takeSnapshot(client: CosmosClient): Promise<Snapshot> {
  const snapshot: Snapshot = { format: SNAPSHOT_FORMAT, version: 1, databases: [] };
  const { resources: dbs } = await client.databases.readAll().fetchAll();
  for (const db of dbs) {
    const database = client.database(db.id);
    const { resources: defs } = await database.containers.readAll().fetchAll();
    const containers: Snapshot['databases'][number]['containers'] = [];
    for (const def of defs) {
      const { resources } = await database
        .container(def.id)
        .items.readAll<ItemDefinition>({ maxItemCount: 1000 })
        .fetchAll();
      containers.push({
        definition: stripSystem(def),
        documents: resources.flatMap((d) => (d.id === undefined ? [] : [stripSystem({ ...d, id: d.id })])),
      });
    }
    snapshot.databases.push({ id: db.id, containers });
  }
  return snapshot;
}

async function restore(client: CosmosClient, snapshot: Snapshot): Promise<void> {
  for (const db of snapshot.databases) {
    const { database } = await client.databases.createIfNotExists({ id: db.id });
    for (const { definition, documents } of db.containers) {
      const { container } = await database.containers.createIfNotExists(definition);
      for (let i = 0; i < documents.length; i += 32) {
        await Promise.all(documents.slice(i, i + 32).map((d) => container.items.create(d)));
      }
    }
  }
}

async function writeSnapshot(file: string, snapshot: Snapshot): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  const handle = await open(tmp, 'w', 0o600);
  try {
    await handle.writeFile(JSON.stringify(snapshot));
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, file);
}

const SYSTEM_PROPERTIES = [
  '_rid',
  '_self',
  '_etag',
  '_ts',
  '_attachments',
  '_docs',
  '_sprocs',
  '_triggers',
  '_udfs',
  '_conflicts',
];

/** A resource without the properties the server assigns (they are re-assigned on restore). */
function stripSystem(resource: { readonly id: string }): Record<string, unknown> & { id: string } {
  const kept = Object.entries(resource).filter(([name]) => !SYSTEM_PROPERTIES.includes(name));
  return { ...Object.fromEntries(kept), id: resource.id };
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}

async function stop(server: Server, client: CosmosClient): Promise<void> {
  client.dispose();
  await new Promise<void>((resolve) => {
    server.close(() => {
      resolve();
    });
    server.closeAllConnections();
  });
}
