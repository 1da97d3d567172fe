import { beforeEach, describe, expect, it } from 'vitest';
import { toAuditEvent, type AuditEvent, type AuditInput } from '../../lib/audit/event.js';
import type { AuditQuery, AuditStore } from '../../lib/audit/store.js';
import { AppError } from '../../lib/errors.js';

const T0 = Date.parse('2026-11-01T10:00:00.000Z');

/** Events one second apart, with ids that sort as they were made. */
export function auditEvents(n: number, f: (i: number) => Partial<AuditInput> = () => ({})): AuditEvent[] {
  return Array.from({ length: n }, (_, i) =>
    toAuditEvent(
      {
        kind: 'enrollment',
        operation: 'PKCSReq',
        endpoint: 'lab',
        outcome: 'issued',
        reason: 'issued',
        subject: `CN=device-${i},O=Contoso`,
        transactionId: `tx-${i}`,
        ...f(i),
      },
      new Date(T0 + i * 1000),
      `ev-${String(i).padStart(6, '0')}`,
    ),
  );
}

async function all(store: AuditStore, q: AuditQuery): Promise<string[]> {
  const out: string[] = [];
  for await (const e of store.stream(q)) out.push(e.id);
  return out;
}

/**
 * The behaviour every AuditStore must have (lib/audit/store.ts); `open` gives a fresh, empty
 * store. Run against memory, Cosmos DB (local server, real SDK) and the embedded database.
 */
export function auditStoreContract(name: string, open: () => Promise<AuditStore> | AuditStore): void {
  describe(`${name} (audit store contract)`, () => {
    let store: AuditStore;
    beforeEach(async () => {
      store = await open();
    });

    it('ok/append then query returns the events oldest first, unchanged', async () => {
      const events = auditEvents(3);
      await store.append([events[2]!, events[0]!, events[1]!]);
      const page = await store.query({});
      expect(page.items).toEqual(events);
      expect(page.continuationToken).toBeUndefined();
    });

    it('ok/appending the same id twice keeps one event (a retried append is harmless)', async () => {
      const [e] = auditEvents(1);
      await store.append([e!]);
      await store.append([e!, { ...e!, message: 'changed' }]);
      const page = await store.query({});
      expect(page.items).toEqual([e]);
    });

    it('ok/every filter selects only matching events', async () => {
      const events = auditEvents(12, (i) => ({
        endpoint: i % 2 === 0 ? 'lab' : 'wifi',
        account: `acc-${i % 3}`,
        organization: i % 4 === 0 ? 'org-a' : i === 11 ? undefined : 'org-b',
        department: i === 8 ? 'dep-x' : i === 4 ? 'dep-y' : undefined,
        outcome: i % 5 === 0 ? 'refused' : 'issued',
        reason: i % 5 === 0 ? 'challenge-mismatch' : 'issued',
        serialNumber: `0${i}`,
        actor: `actor-${i % 2}`,
        device: i === 7 ? 'device-guid-7' : undefined,
      }));
      await store.append(events);
      const ids = (p: (e: AuditEvent) => boolean) => events.filter(p).map((e) => e.id);
      expect(await all(store, { endpoint: 'wifi' })).toEqual(ids((e) => e.endpoint === 'wifi'));
      expect(await all(store, { account: 'acc-1' })).toEqual(ids((e) => e.account === 'acc-1'));
      expect(await all(store, { organization: 'org-a' })).toEqual(ids((e) => e.organization === 'org-a'));
      expect(await all(store, { scope: [{ organization: 'org-a' }] })).toEqual(
        ids((e) => e.organization === 'org-a'),
      );
      expect(await all(store, { scope: [] })).toEqual([]);
      // A department-scoped auditor sees its department and the organization-wide events.
      expect(await all(store, { scope: [{ organization: 'org-a', department: 'dep-x' }] })).toEqual([
        'ev-000000',
        'ev-000008',
      ]);
      expect(await all(store, { outcome: 'refused' })).toEqual(ids((e) => e.outcome === 'refused'));
      expect(await all(store, { reason: 'challenge-mismatch', endpoint: 'lab' })).toEqual(
        ids((e) => e.reason === 'challenge-mismatch' && e.endpoint === 'lab'),
      );
      expect(await all(store, { transactionId: 'tx-3' })).toEqual(['ev-000003']);
      expect(await all(store, { subject: 'device-4' })).toEqual(['ev-000004']);
      expect(await all(store, { subject: 'CN=device-5,O=Contoso' })).toEqual(['ev-000005']);
      expect(await all(store, { serialNumber: '06' })).toEqual(['ev-000006']);
      expect(await all(store, { actor: 'actor-1' })).toEqual(ids((e) => e.actor === 'actor-1'));
      expect(await all(store, { device: 'device-guid-7' })).toEqual(['ev-000007']);
      const from = events[3]!.time;
      const to = events[6]!.time;
      expect(await all(store, { from, to })).toEqual(['ev-000003', 'ev-000004', 'ev-000005']);
    });

    it('ok/paging walks every event once, in order', async () => {
      const events = auditEvents(25);
      await store.append(events);
      const seen: string[] = [];
      let token: string | undefined;
      do {
        const page = await store.query({}, { top: 7, continuationToken: token });
        expect(page.items.length).toBeLessThanOrEqual(7);
        seen.push(...page.items.map((e) => e.id));
        token = page.continuationToken;
      } while (token !== undefined);
      expect(seen).toEqual(events.map((e) => e.id));
    });

    it('fail/a continuation token from elsewhere is BAD_REQUEST', async () => {
      await store.append(auditEvents(2));
      await expect(store.query({}, { continuationToken: 'not-a-token' })).rejects.toSatisfy(
        (e) => e instanceof AppError && e.code === 'BAD_REQUEST',
      );
    });

    it('ok/stream yields every match across many pages', async () => {
      const events = auditEvents(2100);
      for (let i = 0; i < events.length; i += 300) await store.append(events.slice(i, i + 300));
      const ids = await all(store, {});
      expect(ids.length).toBe(2100);
      expect(new Set(ids).size).toBe(2100);
      expect(ids).toEqual(events.map((e) => e.id));
    });
  });
}
