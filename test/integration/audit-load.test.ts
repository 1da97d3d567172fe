import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../lib/audit/event.js';
import { PKIStatus } from '../../lib/scep/types.js';
import { mapConcurrent } from '../fakes/pool.js';
import { tokenAccess, useAuditAccess } from '../helpers/audit.js';
import { startTestHost, type TestHost } from '../helpers/host.js';
import { ecKey, makeCsr } from '../helpers/pki.js';
import { readCertRep } from '../helpers/scep-client.js';
import {
  pkcsReq,
  postPkiOperation,
  selfSignedClient,
  type ScepClientIdentity,
} from '../helpers/scep-flow.js';

/**
 * Load: 1,000 enrollments at concurrency 32 against the local host with its Cosmos DB store
 * give exactly 1,000 "issued" audit events, one per certificate: none lost, none duplicated.
 */
const N = 1000;
let host: TestHost;
let signer: ScepClientIdentity;

beforeAll(async () => {
  host = await startTestHost({}, { store: 'cosmos' });
  await useAuditAccess(tokenAccess({ admin: { id: 'admin', scope: 'all' } }));
  signer = await selfSignedClient('audit-load');
});
afterAll(async () => {
  await host.close();
});

async function message(transactionId: string): Promise<Uint8Array> {
  const csr = await makeCsr({
    key: ecKey('P-256'),
    subject: `CN=${transactionId}`,
    challenge: 'test-challenge-1',
  });
  return pkcsReq(host, signer, transactionId, csr);
}

async function allIssued(): Promise<AuditEvent[]> {
  const res = await fetch(`${host.baseUrl}/api/manage/audit?outcome=issued&format=json`, {
    headers: { authorization: 'Bearer admin' },
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { events: AuditEvent[] }).events;
}

describe('audit under load', () => {
  it(
    `ok/${N} enrollments at concurrency 32 → exactly ${N} "issued" events, one per serial`,
    { timeout: 600_000 },
    async () => {
      const ids = Array.from({ length: N }, (_, i) => `load-${i}`);
      const serials = await mapConcurrent(ids, 32, async (id) => {
        const rep = await readCertRep(
          await postPkiOperation(host, await message(id)),
          signer.key,
          signer.signer.cert,
        );
        expect(rep.status).toBe(PKIStatus.SUCCESS);
        return rep.certificates[0]!.serialNumber.toLowerCase();
      });
      const events = await allIssued();
      expect(events).toHaveLength(N);
      expect(new Set(events.map((e) => e.id)).size).toBe(N);
      expect(new Set(events.map((e) => e.transactionId))).toEqual(new Set(ids));
      expect(new Set(events.map((e) => e.serialNumber))).toEqual(
        new Set(serials.map((s) => s.replace(/^(00)+(?=..)/, ''))),
      );
    },
  );
});
