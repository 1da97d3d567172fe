import { createHash } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getApp } from '../../lib/app.js';
import type { AuditEvent } from '../../lib/audit/event.js';
import type { Attempt } from '../../lib/audit/explain.js';
import { startTestHost, type TestHost } from '../helpers/host.js';
import { manageClient, startManageIdentity, type ManageClient } from '../helpers/manage.js';
import { makeCsr, san } from '../helpers/pki.js';
import { readCertRep } from '../helpers/scep-client.js';
import { pkcsReq, postPkiOperation, selfSignedClient } from '../helpers/scep-flow.js';
import { PKIStatus } from '../../lib/scep/types.js';
import { testRecord } from '../unit/store-contract.js';

const OPERATOR_A = '1a1a1a1a-0000-4000-8000-00000000001a';
const AUDITOR_A = '1b1b1b1b-0000-4000-8000-00000000001b';
const AUDITOR_B = '1c1c1c1c-0000-4000-8000-00000000001c';

/**
 * Management changes, revocations and refusals on stored endpoints in the audit trail, as a
 * scoped administrator reads it through `api/manage/audit` and `api/manage/explain`.
 */
describe('audit trail of the management plane', () => {
  let host: TestHost;
  let identity: Awaited<ReturnType<typeof startManageIdentity>>;
  let admin: ManageClient;
  let operatorA: ManageClient;
  let auditorA: ManageClient;
  let auditorB: ManageClient;
  let challenge: string;

  const events = async (who: ManageClient, query: string): Promise<AuditEvent[]> => {
    const r = await who('GET', `audit?${query}`);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body.value as unknown as AuditEvent[];
  };
  const ops = (list: AuditEvent[]): string[] => list.map((e) => `${e.operation} ${e.organization ?? '-'}`);

  beforeAll(async () => {
    identity = await startManageIdentity();
    host = await startTestHost(identity.settings);
    admin = manageClient(host.baseUrl, host.adminKey);
    operatorA = manageClient(host.baseUrl, await identity.token(OPERATOR_A, ['CA.Operator']));
    auditorA = manageClient(host.baseUrl, await identity.token(AUDITOR_A, ['CA.Auditor']));
    auditorB = manageClient(host.baseUrl, await identity.token(AUDITOR_B, ['CA.Auditor']));
    for (const id of ['org-a', 'org-b']) {
      expect((await admin('POST', 'organizations', { id, displayName: id })).status).toBe(201);
    }
    for (const [oid, org] of [
      [OPERATOR_A, 'org-a'],
      [AUDITOR_A, 'org-a'],
      [AUDITOR_B, 'org-b'],
    ] as const) {
      expect((await admin('PUT', `administrators/${oid}`, { scopes: [{ organization: org }] })).status).toBe(
        200,
      );
    }
    for (const [name, org] of [
      ['lab-a', 'org-a'],
      ['lab-b', 'org-b'],
    ] as const) {
      const r = await admin('POST', 'endpoints', {
        name,
        type: 'device-scep',
        displayName: name,
        delegatedTo: [{ organization: org }],
      });
      expect(r.status).toBe(201);
    }
    const account = await operatorA('POST', 'endpoints/lab-a/accounts', { name: 'kiosks' });
    expect(account.status, JSON.stringify(account.body)).toBe(201);
    challenge = String(account.body.challenge);
    const id = String(account.body.id);
    expect((await operatorA('PATCH', `endpoints/lab-a/accounts/${id}`, { enabled: false })).status).toBe(200);
    expect((await operatorA('PATCH', `endpoints/lab-a/accounts/${id}`, { enabled: true })).status).toBe(200);
  });

  afterAll(async () => {
    await host.close();
    await identity.close();
  });

  it('ok/every management change is an audit event with actor, organization and changed fields', async () => {
    const all = (await events(admin, 'outcome=changed')).filter((e) => e.kind === 'management');
    expect(ops(all)).toEqual([
      'organization.create org-a',
      'organization.create org-b',
      'administrator.create org-a',
      'administrator.create org-a',
      'administrator.create org-b',
      'endpoint.create org-a',
      'endpoint.create org-b',
      'account.create org-a',
      'account.update org-a',
      'account.update org-a',
    ]);
    const update = all.at(-2)!;
    expect(update).toMatchObject({
      kind: 'management',
      actor: `entra:${OPERATOR_A}`,
      endpoint: 'lab-a',
      reason: 'management-change',
      changes: [{ field: 'enabled', before: true, after: false }],
    });
    expect(all.map((e) => e.actor).slice(0, 7)).toEqual(Array(7).fill('admin-key'));
  });

  it('ok/filters: actor, endpoint, organization', async () => {
    expect(ops(await events(admin, `actor=entra:${OPERATOR_A}`))).toEqual([
      'account.create org-a',
      'account.update org-a',
      'account.update org-a',
    ]);
    expect(ops(await events(admin, 'endpoint=lab-b&outcome=changed'))).toEqual(['endpoint.create org-b']);
    expect(ops(await events(admin, 'organization=org-b&outcome=changed'))).toEqual([
      'organization.create org-b',
      'administrator.create org-b',
      'endpoint.create org-b',
    ]);
  });

  it('ok/a scoped auditor sees the changes of its organization only', async () => {
    const seen = await events(auditorB, 'outcome=changed');
    expect(ops(seen)).toEqual([
      'organization.create org-b',
      'administrator.create org-b',
      'endpoint.create org-b',
    ]);
  });

  it('fail/no secret reaches the audit trail: the account challenge is recorded as changed, never its value', async () => {
    const r = await admin('GET', 'audit?format=json');
    expect(r.status).toBe(200);
    const text = JSON.stringify(r.body);
    expect(challenge.length).toBeGreaterThan(10);
    expect(text).not.toContain(challenge);
    expect(text).not.toContain(host.adminKey);
  });

  it('ok/a revocation through the API is one revocation event in the certificate organization', async () => {
    const app = await getApp();
    const c = await app.store.create(
      testRecord(71, { endpoint: 'lab-a', organization: 'org-a', subject: 'CN=audit-revoke, O=A' }),
    );
    if (!c.created) throw new Error('record not created');
    const serial = c.record.serialNumber;
    const r = await operatorA('POST', `certificates/${serial}/revoke`, { reason: 'certificateHold' });
    expect(r.status).toBe(200);
    expect((await operatorA('POST', `certificates/${serial}/unrevoke`)).status).toBe(200);
    const seen = await events(auditorA, `serial=${serial}`);
    expect(seen.map((e) => [e.kind, e.operation, e.outcome, e.reason, e.actor, e.organization])).toEqual([
      ['revocation', 'certificate.revoke', 'revoked', 'certificate-revoked', `entra:${OPERATOR_A}`, 'org-a'],
      [
        'revocation',
        'certificate.release',
        'released',
        'certificate-released',
        `entra:${OPERATOR_A}`,
        'org-a',
      ],
    ]);
    expect(await events(auditorB, `serial=${serial}`)).toEqual([]);
  });

  it('ok/a refusal on a stored endpoint carries its organization: its auditor sees it and the explainer tells it', async () => {
    const client = await selfSignedClient('audit-scoped-refusal');
    const cn = 'scoped-refusal-1';
    const csr = await makeCsr({
      key: client.key,
      subject: `CN=${cn}`,
      sans: [san.dns(`${cn}.example.net`)],
      challenge: 'not-a-challenge-of-this-ca',
    });
    const reply = await postPkiOperation(host, pkcsReq(host, client, `tx-${cn}`, csr), '/scep/lab-a');
    const rep = await readCertRep(reply, client.key, client.signer.cert);
    expect(rep.status).toBe(PKIStatus.FAILURE);

    const refused = await events(auditorA, `subject=${cn}&outcome=refused`);
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({
      endpoint: 'lab-a',
      organization: 'org-a',
      reason: 'challenge-malformed',
    });
    const explained = await auditorA('GET', `explain?subject=${cn}`);
    expect(explained.status).toBe(200);
    const attempts = explained.body.attempts as Attempt[];
    expect(attempts.map((a) => [a.endpoint, a.outcome, a.reason])).toEqual([
      ['lab-a', 'refused', 'challenge-malformed'],
    ]);

    expect(await events(auditorB, `subject=${cn}`)).toEqual([]);
    expect((await auditorB('GET', `explain?subject=${cn}`)).body.attempts).toEqual([]);
  });

  it('ok/key lifecycle: the CA certificate at start, an RA certificate issued then rotated by an administrator', async () => {
    const ca = await events(admin, 'actor=azure-scep-ca&outcome=loaded');
    const created = await events(admin, 'actor=azure-scep-ca&outcome=changed');
    const caEvents = [...ca, ...created].filter((e) => e.operation.startsWith('ca.'));
    expect(caEvents).toHaveLength(1);
    const thumb = createHash('sha256')
      .update(new Uint8Array(AsnConvert.serialize(host.ca)))
      .digest('hex');
    expect(caEvents[0]!.message).toContain(thumb.toUpperCase());

    const r = await admin('POST', 'endpoints', {
      name: 'ra-audit',
      type: 'device-scep',
      displayName: 'ra-audit',
      delegatedTo: [{ organization: 'org-a' }],
      ra: { enabled: true },
    });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect((await fetch(`${host.baseUrl}/scep/ra-audit?operation=GetCACert`)).status).toBe(200);
    const rotated = await admin('POST', 'endpoints/ra-audit/ra-certificates');
    expect(rotated.status).toBe(201);
    const keys = (await events(admin, 'endpoint=ra-audit')).filter((e) => e.kind === 'key');
    expect(keys.map((e) => [e.operation, e.actor])).toEqual([
      ['ra.issued', 'azure-scep-ca'],
      ['ra.rotated', 'admin-key'],
    ]);
    expect(keys[1]!.message).toContain(String(rotated.body.thumbprintSha256));
    expect(keys[1]!.changes?.[0]?.before).toEqual({
      thumbprintSha256: (keys[0]!.changes?.[0]?.after as { thumbprintSha256: string }).thumbprintSha256,
    });
  });
});
