import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import azf, { type HttpResponseInit } from '@azure/functions';
import { AsnParser } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mscepAdmin } from '../../functions/mscepAdmin.js';
import { scep } from '../../functions/scep.js';
import { createApp, setApp, type App } from '../../lib/app.js';
import { createAccount, createOneTimeChallenge } from '../../lib/endpoints/accounts.js';
import { createEndpoint, deleteEndpoint, updateEndpoint } from '../../lib/endpoints/manage.js';
import { silentLogger } from '../../lib/log.js';
import { MessageType, PKIStatus } from '../../lib/scep/types.js';
import { MemoryDocumentStore } from '../../lib/store/documents-memory.js';
import { makeCert, makeCsr, rsaKey } from '../helpers/pki.js';
import { buildPkiMessage, readCertRep } from '../helpers/scep-client.js';

/**
 * Stored endpoints through the exported `scep` and `mscepAdmin` handlers (STYLE.md #2), on two
 * app instances sharing one document store: what one instance's management changes, the
 * other's next enrollment sees once its endpoint cache expires.
 */

let dataDir: string;
let a: App; // the instance enrollments go to
let b: App; // the instance changes are made through
let ca: Certificate;
const key = rsaKey(2048, 'endpoints-as-data');
const logged: Record<string, unknown>[] = [];
const capture = {
  info: () => undefined,
  warn: (_m: string, fields?: Record<string, unknown>) => void logged.push(fields ?? {}),
  error: () => undefined,
};

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'scep-endpoints-'));
  const env = { AppConfig__DataDir: dataDir, AppConfig__StaticValidation__RequestPassword: 'static-secret' };
  const documents = new MemoryDocumentStore();
  // No caching on the enrolling instance: a change must show on its next request.
  a = await createApp(env, { logger: capture, documents, endpointCacheTtlMs: 0 });
  b = await createApp(env, { logger: silentLogger, documents });
  setApp(Promise.resolve(a));
  ca = AsnParser.parse(a.ca.certificateDer, Certificate);
  await createEndpoint(b.manage, { name: 'lab', type: 'device-scep', profile: { validityDays: 30 } });
});
afterAll(() => {
  setApp(undefined);
  rmSync(dataDir, { recursive: true, force: true });
});

const ctx = (name: string) => new azf.InvocationContext({ functionName: name });

function callScep(
  endpoint: string,
  rest: string | undefined,
  body?: Uint8Array,
  headers: Record<string, string> = {},
) {
  const request = new azf.HttpRequest({
    method: body ? 'POST' : 'GET',
    url: `http://127.0.0.1/scep/${endpoint}${rest ? `/${rest}` : ''}?operation=${body ? 'PKIOperation' : 'GetCACaps'}`,
    headers,
    params: { endpoint, ...(rest ? { rest } : {}) },
    ...(body ? { body: { bytes: body } } : {}),
  });
  return scep(request, ctx('scep')) as Promise<HttpResponseInit>;
}

let tx = 0;
async function enroll(
  endpoint: string,
  challenge: string | undefined,
  cn = 'device-1',
  sans?: Parameters<typeof makeCsr>[0]['sans'],
) {
  const signer = await makeCert({ key, subject: 'CN=SCEP SIGNER' });
  const csr = await makeCsr({
    key,
    subject: `CN=${cn}`,
    ...(challenge ? { challenge } : {}),
    ...(sans ? { sans } : {}),
  });
  const msg = buildPkiMessage({
    messageType: MessageType.PKCSReq,
    transactionId: `eps-${++tx}`,
    content: csr,
    recipients: [ca],
    signerKey: key,
    signerCert: signer.cert,
  });
  const r = await callScep(endpoint, undefined, msg);
  expect(r.status).toBe(200);
  return readCertRep(r.body as Uint8Array, key, signer.cert);
}

async function challengeOf(endpoint: string, input: Record<string, unknown> = {}): Promise<string> {
  const r = await createAccount(b.manage, endpoint, { name: 'mdm', ...input });
  if (!('challenge' in r)) throw new Error('expected a challenge');
  return r.challenge;
}

describe('stored endpoints: enrollment', () => {
  it('ok/an account challenge enrolls; the record names endpoint, account, organization and profile', async () => {
    const challenge = await challengeOf('lab', { organization: 'contoso', department: 'it' });
    const rep = await enroll('lab', challenge);
    expect(rep.status).toBe(PKIStatus.SUCCESS);
    const cert = rep.certificates[0];
    if (!cert) throw new Error('no certificate');
    const days = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / 86_400_000;
    expect(Math.round(days)).toBe(31); // 30 days + the 1-day clock-skew backdating
    const record = await a.store.getBySerial(cert.serialNumber.toLowerCase().replace(/^(00)+/, ''));
    expect(record).toMatchObject({
      endpoint: 'lab',
      endpointId: 'lab',
      authorization: 'account',
      accountId: challenge.slice(0, 16),
      organization: 'contoso',
      department: 'it',
      profile: {
        validityDays: 30,
        keyUsage: ['DigitalSignature', 'KeyEncipherment'],
        ekus: ['1.3.6.1.5.5.7.3.2'],
      },
    });
  });

  it('fail/a wrong challenge → signed FAILURE that does not say why', async () => {
    const challenge = await challengeOf('lab');
    const rep = await enroll('lab', challenge.slice(0, 16) + '0'.repeat(32));
    expect(rep.status).toBe(PKIStatus.FAILURE);
    expect(rep.failInfoText).toBe('the request was not authorized: challenge-rejected');
    expect(logged.at(-1)).toMatchObject({ audit: true, endpoint: 'lab', reason: 'account-secret-mismatch' });
  });

  it('fail/the static endpoint’s challenge does not open a stored endpoint, nor the reverse', async () => {
    expect((await enroll('lab', 'static-secret')).status).toBe(PKIStatus.FAILURE);
    expect((await enroll('static', await challengeOf('lab'))).status).toBe(PKIStatus.FAILURE);
    expect((await enroll('static', 'static-secret')).status).toBe(PKIStatus.SUCCESS);
  });

  it('ok/a one-time challenge enrolls once; its second use is refused', async () => {
    const { challenge } = await createOneTimeChallenge(b.manage, 'lab');
    expect((await enroll('lab', challenge, 'once-1')).status).toBe(PKIStatus.SUCCESS);
    expect((await enroll('lab', challenge, 'once-2')).status).toBe(PKIStatus.FAILURE);
    expect(logged.at(-1)).toMatchObject({ audit: true, outcome: 'refused', reason: 'account-used-up' });
  });

  it('ok/20 simultaneous enrollments with one one-time challenge → exactly one certificate', async () => {
    const { challenge } = await createOneTimeChallenge(b.manage, 'lab');
    const reps = await Promise.all(
      Array.from({ length: 20 }, (_, i) => enroll('lab', challenge, `race-${i}`)),
    );
    expect(reps.filter((r) => PKIStatus[r.status] === 'SUCCESS')).toHaveLength(1);
    const issued = await a.store.search({ endpoint: 'lab', subjectContains: 'race-' });
    expect(issued.items).toHaveLength(1);
  });
});

describe('stored endpoints: a re-send while the first request runs', () => {
  it('ok/the same PKCSReq sent 5 times at once with a one-time challenge → 5 × the same certificate, one record', async () => {
    const { challenge } = await createOneTimeChallenge(b.manage, 'lab');
    const signer = await makeCert({ key, subject: 'CN=SCEP SIGNER' });
    const msg = buildPkiMessage({
      messageType: MessageType.PKCSReq,
      transactionId: `eps-resend-${++tx}`,
      content: await makeCsr({ key, subject: 'CN=resent', challenge }),
      recipients: [ca],
      signerKey: key,
      signerCert: signer.cert,
    });
    const answers = await Promise.all(Array.from({ length: 5 }, () => callScep('lab', undefined, msg)));
    const reps = await Promise.all(answers.map((r) => readCertRep(r.body as Uint8Array, key, signer.cert)));
    // Before: the re-sends were authorized again while the first was signing, and the used-up
    // one-time challenge refused them.
    expect(reps.map((r) => PKIStatus[r.status])).toEqual(Array(5).fill('SUCCESS'));
    expect(new Set(reps.map((r) => r.certificates[0]?.serialNumber)).size).toBe(1);
    const issued = await a.store.search({ endpoint: 'lab', subjectContains: 'resent' });
    expect(issued.items).toHaveLength(1);
  });
});

describe('stored endpoints: renewals and busy accounts', () => {
  it('ok/a renewal keeps the account, organization and department of the certificate it renews', async () => {
    const challenge = await challengeOf('lab', { organization: 'fabrikam', department: 'ops' });
    const first = (await enroll('lab', challenge, 'renew-me')).certificates[0];
    if (!first) throw new Error('no certificate');
    const signerCert = AsnParser.parse(first.raw, Certificate);
    const msg = buildPkiMessage({
      messageType: MessageType.RenewalReq,
      transactionId: `eps-${++tx}`,
      content: await makeCsr({ key, subject: 'CN=renew-me' }),
      recipients: [ca],
      signerKey: key,
      signerCert,
    });
    const r = await callScep('lab', undefined, msg);
    const rep = await readCertRep(r.body as Uint8Array, key, signerCert);
    expect(PKIStatus[rep.status]).toBe('SUCCESS');
    const renewed = rep.certificates[0];
    if (!renewed) throw new Error('no renewed certificate');
    const serial = (c: typeof renewed): string => c.serialNumber.toLowerCase().replace(/^(00)+/, '');
    const record = await a.store.getBySerial(serial(renewed));
    expect(record).toMatchObject({
      authorization: 'renewal',
      renewalOf: serial(first),
      accountId: challenge.slice(0, 16),
      organization: 'fabrikam',
      department: 'ops',
    });
  });

  it('ok/32 simultaneous enrollments on one account without a use limit all succeed and are all counted', async () => {
    const challenge = await challengeOf('lab', { name: 'unlimited' });
    const reps = await Promise.all(
      Array.from({ length: 32 }, (_, i) => enroll('lab', challenge, `busy-${i}`)),
    );
    expect(reps.map((r) => PKIStatus[r.status])).toEqual(Array.from({ length: 32 }, () => 'SUCCESS'));
    const account = await a.documents
      .collection<{ id: string; uses: number }>('accounts')
      .get(challenge.slice(0, 16), 'lab');
    expect(account?.uses).toBe(32);
  });
});

describe('stored endpoints: changes through the other instance', () => {
  it('ok/a profile change applies to the next enrollment', async () => {
    await createEndpoint(b.manage, { name: 'policy', type: 'client-scep' });
    const challenge = await challengeOf('policy');
    expect((await enroll('policy', challenge, 'laptop-1')).status).toBe(PKIStatus.SUCCESS);
    await updateEndpoint(b.manage, 'policy', { profile: { subject: { cnPattern: 'pc-\\d+' } } });
    const refused = await enroll('policy', challenge, 'laptop-2');
    expect(refused.status).toBe(PKIStatus.FAILURE);
    expect((await enroll('policy', challenge, 'pc-7')).status).toBe(PKIStatus.SUCCESS);
    await updateEndpoint(b.manage, 'policy', { profile: { validityDays: 10 } });
    const cert = (await enroll('policy', challenge, 'pc-8')).certificates[0];
    expect(
      Math.round((Date.parse(cert?.validTo ?? '') - Date.parse(cert?.validFrom ?? '')) / 86_400_000),
    ).toBe(11);
  });

  it('fail/a disabled endpoint → 404; enabled again → served', async () => {
    await createEndpoint(b.manage, { name: 'toggle', type: 'device-scep' });
    expect((await callScep('toggle', undefined)).status).toBe(200);
    await updateEndpoint(b.manage, 'toggle', { enabled: false });
    const r = await callScep('toggle', undefined);
    expect(r.status).toBe(404);
    expect(r.jsonBody).toMatchObject({ error: 'UNKNOWN_ENDPOINT' });
    await updateEndpoint(b.manage, 'toggle', { enabled: true });
    expect((await callScep('toggle', undefined)).status).toBe(200);
  });

  it('fail/a deleted endpoint → 404, and its challenges are gone with it', async () => {
    await createEndpoint(b.manage, { name: 'gone', type: 'device-scep' });
    await challengeOf('gone');
    expect(await deleteEndpoint(b.manage, 'gone')).toBe(true);
    expect((await callScep('gone', undefined)).status).toBe(404);
  });

  it('ok/the caching instance sees a change only after its cache period', async () => {
    let now = 0;
    const { EndpointRegistry } = await import('../../lib/endpoints/registry.js');
    const { endpointsOf } = await import('../../lib/endpoints/manage.js');
    const registry = new EndpointRegistry({
      builtIns: new Map(),
      endpoints: endpointsOf(b.documents),
      build: (e) => ({ name: e.name }) as never,
      log: silentLogger,
      now: () => now,
    });
    await createEndpoint(b.manage, { name: 'cached', type: 'device-scep' });
    const first = await registry.resolve('cached');
    expect(first).toBeDefined();
    await updateEndpoint(b.manage, 'cached', { enabled: false });
    now = 29_999;
    expect(await registry.resolve('cached')).toBe(first);
    now = 30_000;
    expect(await registry.resolve('cached')).toBeUndefined();
  });
});

describe('NDES-compatible challenge page', () => {
  function page(path: string, authorization?: string) {
    const headers: Record<string, string> = authorization ? { authorization } : {};
    if (path === 'global') {
      const request = new azf.HttpRequest({
        method: 'GET',
        url: 'http://127.0.0.1/certsrv/mscep_admin/',
        headers,
      });
      return mscepAdmin(request, ctx('mscepAdmin')) as Promise<HttpResponseInit>;
    }
    return callScep(path, 'mscep_admin/', undefined, headers);
  }
  const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
  const challengeIn = (r: HttpResponseInit): string => {
    const bytes = Buffer.from(r.body as Uint8Array);
    expect([...bytes.subarray(0, 2)]).toEqual([0xff, 0xfe]);
    const html = bytes.subarray(2).toString('utf16le');
    const m = /The enrollment challenge password is: <B> (\S+) <\/B>/.exec(html);
    if (!m?.[1]) throw new Error(`no challenge in ${html}`);
    return m[1];
  };

  it('ok/Basic credentials of an ndes account → NDES’s UTF-16LE page with a fresh one-time challenge that enrolls once', async () => {
    const r = await createAccount(b.manage, 'lab', { name: 'jamf', kind: 'ndes' });
    if (!('username' in r)) throw new Error('expected credentials');
    const first = await page('lab', basic(r.username, r.password));
    expect(first.status).toBe(200);
    expect((first.headers as Record<string, string>)['content-type']).toMatch(/^text\/html/);
    const c1 = challengeIn(first);
    const c2 = challengeIn(await page('global', basic(r.username, r.password)));
    const c3 = challengeIn(await page('lab', basic(r.account.id, r.password)));
    expect(new Set([c1, c2, c3]).size).toBe(3);
    expect((await enroll('lab', c1, 'ndes-1')).status).toBe(PKIStatus.SUCCESS);
    expect((await enroll('lab', c1, 'ndes-2')).status).toBe(PKIStatus.FAILURE);
  });

  it.each([
    ['no credentials', undefined],
    ['a wrong password', 'wrong'],
    ['garbage', 'Basic !!!'],
  ])('fail/%s → 401 with WWW-Authenticate: Basic', async (_label, auth) => {
    const r = await createAccount(b.manage, 'lab', { name: 'fleet', kind: 'ndes' });
    if (!('username' in r)) throw new Error('expected credentials');
    const header = auth === 'wrong' ? basic(r.username, 'F'.repeat(32)) : auth;
    for (const where of ['lab', 'global']) {
      const res = await page(where, header);
      expect(res.status).toBe(401);
      expect((res.headers as Record<string, string>)['www-authenticate']).toMatch(/^Basic /);
    }
  });

  it('fail/a challenge account, another endpoint’s page, a disabled ndes account → 401', async () => {
    const challenge = await challengeOf('lab');
    expect((await page('lab', basic(challenge.slice(0, 16), challenge.slice(16)))).status).toBe(401);
    const r = await createAccount(b.manage, 'lab', { name: 'x', kind: 'ndes', enabled: false });
    if (!('username' in r)) throw new Error('expected credentials');
    expect((await page('lab', basic(r.username, r.password))).status).toBe(401);
    const ok = await createAccount(b.manage, 'lab', { name: 'y', kind: 'ndes' });
    if (!('username' in ok)) throw new Error('expected credentials');
    expect((await page('policy', basic(ok.username, ok.password))).status).toBe(401);
  });
});
