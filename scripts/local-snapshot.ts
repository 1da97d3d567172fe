import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { AppError } from '../lib/errors.js';

/**
 * The file format of `.data/cosmos.json`: every database, container definition and document of
 * the local Cosmos DB–compatible server (scripts/local-cosmos.ts writes it; scripts/local-migrate.ts
 * imports an earlier version's into the embedded database).
 */
export const SNAPSHOT_FORMAT = 'azure-scep-ca/local-cosmos';

export const snapshotSchema = z.object({
  format: z.literal(SNAPSHOT_FORMAT),
  version: z.literal(1),
  databases: z.array(
    z.object({
      id: z.string(),
      containers: z.array(
        z.object({
          definition: z.looseObject({ id: z.string() }),
          documents: z.array(z.looseObject({ id: z.string() })),
        }),
      ),
    }),
  ),
});
export type Snapshot = z.output<typeof snapshotSchema>;

/** The snapshot in `file`; undefined when there is none. Never undefined for a file it cannot read. */
export async function loadSnapshot(file: string): Promise<Snapshot | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  const parsed = snapshotSchema.safeParse(safeJson(text));
  if (!parsed.success) {
    // Never start empty over a file we cannot read: that would discard the recorded certificates.
    throw new AppError('CONFIG_INVALID', `${file} is not a local Cosmos DB snapshot; move it away to start`);
  }
  return parsed.data;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
