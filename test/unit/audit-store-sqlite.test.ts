import { afterEach, describe, expect, it } from 'vitest';
import { SqliteAuditStore } from '../../lib/audit/sqlite.js';
import { openSqlite, type Sqlite } from '../../lib/store/sqlite.js';
import { auditEvents, auditStoreContract } from './audit-store-contract.js';

const open: Sqlite[] = [];
afterEach(() => {
  for (const db of open.splice(0)) db.close();
});
function database(): Sqlite {
  const db = openSqlite(':memory:');
  open.push(db);
  return db;
}

auditStoreContract('SqliteAuditStore', () => new SqliteAuditStore(database(), { retentionDays: 400 }));

describe('SqliteAuditStore retention', () => {
  it('ok/events older than the retention are deleted on a later append', async () => {
    let now = new Date('2026-11-01T10:00:00Z');
    const store = new SqliteAuditStore(database(), { retentionDays: 1, now: () => now });
    const [old, recent] = auditEvents(2, (i) => ({
      time: i === 0 ? '2026-10-30T00:00:00.000Z' : '2026-11-01T09:00:00.000Z',
    }));
    now = new Date('2026-11-01T10:00:00Z');
    await store.append([old!, recent!]);
    expect((await store.query({})).items.map((e) => e.id)).toEqual([recent!.id]);
  });
});
