import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { LOCAL_DATABASE_FILE, createLocalStores } from '../../lib/store/local.js';
import { openSqlite, type Sqlite } from '../../lib/store/sqlite.js';
import { INTERVAL_MS, startCheckpointer } from '../../lib/store/sqlite-checkpoint.js';

/** The embedded database's checkpoints run on their own thread (lib/store/sqlite-checkpoint.ts). */
describe('embedded database checkpoints', () => {
  const dir = mkdtempSync(join(tmpdir(), 'scep-sqlite-ckpt-'));
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** Steady writes (~16 log frames each, 4 KB pages) with the event loop free between batches. */
  async function write(db: Sqlite, rows: number): Promise<void> {
    const insert = db.prepare(
      'INSERT INTO documents (collection, partition, id, etag, body) VALUES (?, ?, ?, ?, ?)',
    );
    for (let i = 0; i < rows; i += 1) {
      insert.run('bench', 'p', randomBytes(16).toString('hex'), 'e', randomBytes(30_000).toString('base64'));
      if (i % 25 === 24) await sleep(5);
    }
  }

  const walBytes = (file: string): number => (existsSync(`${file}-wal`) ? statSync(`${file}-wal`).size : 0);

  it('copies the log into the database file and keeps the log bounded, with no checkpoint in the writing connection', async () => {
    const bounded = join(dir, 'bounded.db');
    const db = openSqlite(bounded);
    db.pragma('wal_autocheckpoint = 0'); // only the thread checkpoints here
    const checkpoints = startCheckpointer(db, bounded);
    let boundedWal: number;
    try {
      await sleep(INTERVAL_MS * 2); // the thread has opened its connection
      await write(db, 1_500); // ~22,000 log frames: ~90 MB of log without checkpoints
      await sleep(INTERVAL_MS * 3);
      expect(statSync(bounded).size).toBeGreaterThan(40_000_000); // the pages reached the file
      boundedWal = walBytes(bounded);
    } finally {
      checkpoints.stop();
      db.close();
    }

    const unbounded = join(dir, 'unbounded.db');
    const without = openSqlite(unbounded);
    without.pragma('wal_autocheckpoint = 0');
    try {
      await write(without, 1_500);
      // Without the thread the log holds every frame written; with it, a few RESTART_FRAMES.
      expect(walBytes(unbounded)).toBeGreaterThan(40_000_000);
      expect(boundedWal).toBeLessThan(walBytes(unbounded) / 2);
    } finally {
      without.close();
    }
  });

  it('keeps every committed row through checkpoints and close: the file opens again whole', async () => {
    const dataDir = join(dir, 'stores');
    const stores = await createLocalStores({ dataDir, localStore: 'sqlite' });
    const db = stores.database;
    if (!db) throw new Error('the embedded default has a database');
    await write(db, 600);
    stores.close();
    const again = openSqlite(join(dataDir, LOCAL_DATABASE_FILE));
    try {
      expect(again.prepare('SELECT count(*) AS n FROM documents').get()).toMatchObject({ n: 600 });
      expect(again.prepare('PRAGMA integrity_check').get()).toMatchObject({ integrity_check: 'ok' });
    } finally {
      again.close();
    }
  });
});
