import type { KeyObject } from 'node:crypto';
import type { Certificate } from '@peculiar/asn1-x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getApp } from '../../lib/app.js';
import { REASONS, type ReasonCode } from '../../lib/audit/reasons.js';
import { MessageType, PKIStatus } from '../../lib/scep/types.js';
import { auditEvents, explainAttempts, tokenAccess, useAuditAccess } from '../helpers/audit.js';
import { startTestHost, type TestHost } from '../helpers/host.js';
import { ecKey, makeCert, makeCsr, rsaKey, san } from '../helpers/pki.js';
import { buildPkiMessage, readCertRep } from '../helpers/scep-client.js';

let host: TestHost;
beforeAll(async () => {
  host = await startTestHost();
  await useAuditAccess(
    tokenAccess({
      admin: { id: 'admin', scope: 'all' },
      'auditor-a': { id: 'auditor-a', scope: [{ organization: 'org-a' }] },
    }),
  );
});
afterAll(async () => {
  await host.close();
});

interface Request {
  cn: string;
  key?: KeyObject;
  challenge?: string | undefined;
  subject?: string;
  messageType?: MessageType;
  signer?: { cert: Certificate; key: KeyObject };
  recipients?: Certificate[];
  transactionId?: string;
  sans?: ReturnType<typeof san.dns>[];
}

async function send(o: Request): Promise<{ status: number; der?: Uint8Array; key: KeyObject }> {
  const key = o.key ?? rsaKey(2048, o.cn);
  const signer = o.signer ?? { cert: (await makeCert({ key, subject: `CN=${o.cn}` })).cert, key };
  const csr = await makeCsr({
    key,
    subject: o.subject ?? `CN=${o.cn}, O=Test`,
    sans: o.sans ?? (o.subject === '' ? [] : [san.dns(`${o.cn}.example.net`)]),
    ...('challenge' in o
      ? o.challenge === undefined
        ? {}
        : { challenge: o.challenge }
      : { challenge: 'test-challenge-1' }),
  });
  const msg = buildPkiMessage({
    messageType: o.messageType ?? MessageType.PKCSReq,
    transactionId: o.transactionId ?? `tx-${o.cn}-${Math.random()}`,
    content: csr,
    recipients: o.recipients ?? [host.ca],
    signerKey: signer.key,
    signerCert: signer.cert,
  });
  const res = await host.post('/scep/static?operation=PKIOperation', msg);
  expect(res.status).toBe(200);
  const rep = await readCertRep(new Uint8Array(await res.arrayBuffer()), signer.key, signer.cert);
  const cert = rep.certificates[0];
  return { status: rep.status, key, ...(cert ? { der: new Uint8Array(cert.raw) } : {}) };
}

/** Exactly one refusal for the CN, with `reason`; the explainer tells it with the catalogue's fix. */
async function expectOneRefusal(cn: string, reason: ReasonCode): Promise<void> {
  const events = await auditEvents(host, `subject=${encodeURIComponent(cn)}&outcome=refused`);
  expect(events.map((e) => e.reason)).toEqual([reason]);
  const attempts = await explainAttempts(host, `subject=${encodeURIComponent(cn)}`);
  const refused = attempts.filter((a) => a.outcome === 'refused');
  expect(refused).toHaveLength(1);
  expect(refused[0]).toMatchObject({
    reason,
    endpoint: 'static',
    fix: REASONS[reason as keyof typeof REASONS].fix,
  });
  expect(refused[0]!.message).toContain("endpoint 'static'");
}

describe('audit: each refusal class gives exactly one event, and the explainer names the cause', () => {
  it('wrong challenge: challenge-mismatch, and the challenge is never recorded', async () => {
    const r = await send({ cn: 'ax-wrong', challenge: 'not-the-challenge-xyz' });
    expect(r.status).toBe(PKIStatus.FAILURE);
    await expectOneRefusal('ax-wrong', 'challenge-mismatch');
    const all = JSON.stringify(await auditEvents(host, 'subject=ax-wrong'));
    expect(all).not.toContain('not-the-challenge-xyz');
    expect(all).not.toContain('test-challenge-1');
  });

  it('no challenge: challenge-missing', async () => {
    expect((await send({ cn: 'ax-nochallenge', challenge: undefined })).status).toBe(PKIStatus.FAILURE);
    await expectOneRefusal('ax-nochallenge', 'challenge-missing');
  });

  it('RSA 1024: key-too-small, with the bits compared', async () => {
    expect((await send({ cn: 'ax-small', key: rsaKey(1024, 'ax-small') })).status).toBe(PKIStatus.FAILURE);
    await expectOneRefusal('ax-small', 'key-too-small');
    const [a] = (await explainAttempts(host, 'subject=ax-small')).filter((x) => x.outcome === 'refused');
    expect(a!.compared).toEqual([{ name: 'rsaBits', actual: 1024, required: '>= 2048' }]);
    expect(a!.message).toBe("endpoint 'static': RSA keys must have at least 2048 bits (got 1024)");
  });

  it('EC P-521: curve-not-allowed', async () => {
    const key = ecKey('P-521');
    const signerKey = rsaKey(2048, 'ax-curve-signer');
    const signer = {
      cert: (await makeCert({ key: signerKey, subject: 'CN=ax-curve' })).cert,
      key: signerKey,
    };
    expect((await send({ cn: 'ax-curve', key, signer })).status).toBe(PKIStatus.FAILURE);
    await expectOneRefusal('ax-curve', 'curve-not-allowed');
  });

  it('envelope encrypted to another CA certificate: envelope-recipient-mismatch naming the recipient', async () => {
    const other = await makeCert({ key: rsaKey(2048, 'other-ca'), subject: 'CN=Some Other CA' });
    expect((await send({ cn: 'ax-recipient', recipients: [other.cert] })).status).toBe(PKIStatus.FAILURE);
    await expectOneRefusal('ax-recipient', 'envelope-recipient-mismatch');
    const [a] = await explainAttempts(host, 'subject=ax-recipient');
    expect(String(a!.compared?.[0]?.actual)).toContain('Some Other CA');
  });

  it('RenewalReq signed by a certificate this CA did not issue: renewal-signer-not-ours', async () => {
    const r = await send({ cn: 'ax-renew-foreign', messageType: MessageType.RenewalReq, challenge: 'wrong' });
    expect(r.status).toBe(PKIStatus.FAILURE);
    await expectOneRefusal('ax-renew-foreign', 'renewal-signer-not-ours');
  });

  it('renewal with another subject and no valid challenge: renewal-identity-changed', async () => {
    const first = await send({ cn: 'ax-renew-a' });
    expect(first.status).toBe(PKIStatus.SUCCESS);
    const { AsnParser } = await import('@peculiar/asn1-schema');
    const { Certificate: Cert } = await import('@peculiar/asn1-x509');
    const cert = AsnParser.parse(first.der!, Cert);
    const r = await send({
      cn: 'ax-renew-b',
      messageType: MessageType.RenewalReq,
      signer: { cert, key: first.key },
      challenge: 'wrong',
    });
    expect(r.status).toBe(PKIStatus.FAILURE);
    await expectOneRefusal('ax-renew-b', 'renewal-identity-changed');
  });

  it('a renewal signed by a revoked certificate: renewal-signer-revoked', async () => {
    const first = await send({ cn: 'ax-revoked' });
    const app = await getApp();
    const { AsnParser } = await import('@peculiar/asn1-schema');
    const { Certificate: Cert } = await import('@peculiar/asn1-x509');
    const cert = AsnParser.parse(first.der!, Cert);
    const serial = Buffer.from(cert.tbsCertificate.serialNumber)
      .toString('hex')
      .replace(/^(00)+(?=..)/, '');
    const record = await app.store.getBySerial(serial);
    await app.store.update(record!, { status: 'revoked' });
    const r = await send({
      cn: 'ax-revoked',
      messageType: MessageType.RenewalReq,
      signer: { cert, key: first.key },
    });
    expect(r.status).toBe(PKIStatus.FAILURE);
    await expectOneRefusal('ax-revoked', 'renewal-signer-revoked');
    // The serial explains its own story: issued, then a renewal refused.
    const story = await explainAttempts(host, `serial=${serial}`);
    expect(story.map((a) => a.reason)).toEqual(['issued']);
  });

  it('the same transactionID with another key: transaction-key-mismatch', async () => {
    const tx = 'tx-ax-conflict';
    expect((await send({ cn: 'ax-conflict', transactionId: tx })).status).toBe(PKIStatus.SUCCESS);
    const again = await send({ cn: 'ax-conflict', transactionId: tx, key: rsaKey(2048, 'ax-conflict-2') });
    expect(again.status).toBe(PKIStatus.FAILURE);
    await expectOneRefusal('ax-conflict', 'transaction-key-mismatch');
    const byTx = await explainAttempts(host, `transactionId=${tx}`);
    expect(byTx.map((a) => a.outcome)).toEqual(['issued', 'refused']);
  });

  it('a body that is not a pkiMessage: HTTP 400 and message-unparseable with what the parser saw', async () => {
    const res = await host.post('/scep/static?operation=PKIOperation', new TextEncoder().encode('hello'), {
      'content-type': 'text/plain',
    });
    expect(res.status).toBe(400);
    const events = await auditEvents(host, 'reason=message-unparseable');
    expect(events).toHaveLength(1);
    expect(events[0]!.compared).toEqual(
      expect.arrayContaining([
        { name: 'contentType', actual: 'text/plain', required: 'application/x-pki-message' },
      ]),
    );
  });

  it('an endpoint that does not exist: HTTP 404 and endpoint-unknown', async () => {
    const res = await host.post('/scep/nope?operation=PKIOperation', new Uint8Array([0x30, 0x00]));
    expect(res.status).toBe(404);
    const events = await auditEvents(host, 'reason=endpoint-unknown');
    expect(events).toHaveLength(1);
    expect(events[0]!.message).toContain('"nope"');
  });

  it('a request naming its Intune device (URI SAN IntuneDeviceId://…) is explained by device id', async () => {
    const device = '2f1b5c7e-9d0a-4c3e-8b6f-1a2b3c4d5e6f';
    const sans = [san.uri(`IntuneDeviceId://${device}`)];
    expect((await send({ cn: 'ax-device', sans, challenge: 'wrong' })).status).toBe(PKIStatus.FAILURE);
    expect((await send({ cn: 'ax-device', sans })).status).toBe(PKIStatus.SUCCESS);
    const attempts = await explainAttempts(host, `device=${device}`);
    expect(attempts.map((a) => [a.outcome, a.reason])).toEqual([
      ['refused', 'challenge-mismatch'],
      ['issued', 'issued'],
    ]);
  });

  it('an issued certificate is one "issued" event with its serial, and the CSV export has it', async () => {
    const r = await send({ cn: 'ax-ok' });
    expect(r.status).toBe(PKIStatus.SUCCESS);
    const events = await auditEvents(host, 'subject=ax-ok');
    expect(events.map((e) => [e.outcome, e.reason])).toEqual([['issued', 'issued']]);
    const res = await fetch(`${host.baseUrl}/api/manage/audit?subject=ax-ok&format=csv`, {
      headers: { authorization: 'Bearer admin' },
    });
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    // Streamed as it is produced, not gathered first: no length known up front.
    expect(res.headers.get('transfer-encoding')).toBe('chunked');
    expect(res.headers.get('content-length')).toBeNull();
    const lines = (await res.text()).trim().split('\r\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^time,id,kind,endpoint,/);
    expect(lines[1]).toContain(events[0]!.serialNumber);
  });
});

describe('audit: access', () => {
  it('without credentials the audit and the explainer answer 401', async () => {
    for (const path of ['/api/manage/audit', '/api/manage/explain?subject=x']) {
      expect((await fetch(`${host.baseUrl}${path}`)).status).toBe(401);
    }
  });

  it('an auditor of org-a sees none of the events of the unowned static endpoint', async () => {
    expect(await auditEvents(host, 'subject=ax-ok', 'auditor-a')).toEqual([]);
    expect(await explainAttempts(host, 'subject=ax-ok', 'auditor-a')).toEqual([]);
    expect((await auditEvents(host, 'subject=ax-ok', 'admin')).length).toBe(1);
  });

  it('bad filters are a 400 RFC 9457 problem that names the filter, as on every management route', async () => {
    const filters = [
      'reason=no-such-code',
      'outcome=maybe',
      'from=yesterday',
      'to=2026-02-30',
      'from=2026-12-01T25:00:00Z',
      'serial=xyz',
      'format=xml',
    ];
    for (const q of filters) {
      const res = await fetch(`${host.baseUrl}/api/manage/audit?${q}`, {
        headers: { authorization: 'Bearer admin' },
      });
      expect(res.status, q).toBe(400);
      expect(res.headers.get('content-type'), q).toMatch(/^application\/problem\+json/);
      const problem = (await res.json()) as { status?: number; detail?: string };
      expect(problem.status, q).toBe(400);
      expect(problem.detail, q).toContain(q.split('=')[0]);
    }
    const res = await fetch(`${host.baseUrl}/api/manage/explain?subject=a&serial=01`, {
      headers: { authorization: 'Bearer admin' },
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });

  it('a calendar date (the console’s date input) and a date-time with its offset are accepted', async () => {
    for (const q of ['from=2026-02-28', 'to=2028-02-29', 'from=2026-12-01T10:00:00%2B02:00']) {
      const res = await fetch(`${host.baseUrl}/api/manage/audit?${q}`, {
        headers: { authorization: 'Bearer admin' },
      });
      expect(res.status, q).toBe(200);
    }
  });
});
