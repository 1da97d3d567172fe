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

  /**
   * Steady writes (~15 log frames each, 4 KB pages) in small batches with pauses between them,
   * as enrollments arrive: the writer is idle most of the time.
   */
  async function write(db: Sqlite, rows: number): Promise<void> {
    const insert = db.prepare(
      'INSERT INTO documents (collection, partition, id, etag, body) VALUES (?, ?, ?, ?, ?)',
    );
    for (let i = 0; i < rows; i += 1) {
      insert.run('bench', 'p', randomBytes(16).toString('hex'), 'e', randomBytes(30_000).toString('base64'));
      if (i % 5 === 4) await sleep(5);
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
      expect(await checkpoints.ready).toBe(true);
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

  it('never makes a commit wait on a reader: with a read transaction holding the log, the RESTART gives up and writes go on', async () => {
    const file = join(dir, 'reader.db');
    const db = openSqlite(file);
    const failures: string[] = [];
    const checkpoints = startCheckpointer(db, file, (r) => failures.push(r));
    const reader = openSqlite(file); // a `.backup` or a shell with an open transaction
    try {
      expect(await checkpoints.ready).toBe(true);
      await write(db, 200);
      reader.exec('BEGIN');
      reader.prepare('SELECT count(*) FROM documents').get(); // holds its snapshot of the log
      const insert = db.prepare(
        'INSERT INTO documents (collection, partition, id, etag, body) VALUES (?, ?, ?, ?, ?)',
      );
      let slowest = 0;
      for (let i = 0; i < 800; i += 1) {
        const t = performance.now();
        insert.run('r', 'p', randomBytes(16).toString('hex'), 'e', randomBytes(30_000).toString('base64'));
        slowest = Math.max(slowest, performance.now() - t);
        if (i % 25 === 24) await sleep(5);
      }
      // A writer waiting on the thread's busy timeout would take seconds (or fail with SQLITE_BUSY).
      expect(slowest).toBeLessThan(1_000);
      expect(failures).toEqual([]);
      reader.exec('COMMIT');
    } finally {
      checkpoints.stop();
      reader.close();
      db.close();
    }
  });

  it('a thread that cannot open the database reports it, is not ready, and stop() returns at once', async () => {
    const db = openSqlite(':memory:');
    const failures: string[] = [];
    const checkpoints = startCheckpointer(db, join(dir, 'missing', 'folder', 'ca.db'), (r) =>
      failures.push(r),
    );
    try {
      expect(await checkpoints.ready).toBe(false);
      expect(failures.join(' ')).toMatch(/cannot open the database/);
      const t = performance.now();
      checkpoints.stop();
      expect(performance.now() - t).toBeLessThan(1_000);
    } finally {
      db.close();
    }
  });
});
