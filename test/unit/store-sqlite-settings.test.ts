import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CHECKPOINT_PAGES, openSqlite } from '../../lib/store/sqlite.js';

/** The embedded database file's durability and checkpoint settings (lib/store/sqlite.ts). */
describe('openSqlite settings', () => {
  const dir = mkdtempSync(join(tmpdir(), 'scep-sqlite-settings-'));
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('ok/WAL journal, synchronous NORMAL, and a checkpoint only every 10,000 log pages', () => {
    const db = openSqlite(join(dir, 'ca.db'));
    try {
      const value = (pragma: string): unknown =>
        Object.values(db.prepare(`PRAGMA ${pragma}`).get() as Record<string, unknown>)[0];
      expect(value('journal_mode')).toBe('wal');
      expect(value('synchronous')).toBe(1); // NORMAL
      expect(CHECKPOINT_PAGES).toBe(10_000);
      expect(value('wal_autocheckpoint')).toBe(CHECKPOINT_PAGES);
    } finally {
      db.close();
    }
  });
});
