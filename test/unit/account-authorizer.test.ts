import { describe, expect, it } from 'vitest';
import { AccountAuthorizer } from '../../lib/endpoints/account-authorizer.js';
import { createAccount, createOneTimeChallenge, updateAccount } from '../../lib/endpoints/accounts.js';
import { accountsOf, createEndpoint } from '../../lib/endpoints/manage.js';
import { parseCsr } from '../../lib/csr/parse.js';
import { CosmosDocumentStore } from '../../lib/store/cosmos-documents.js';
import { createCosmosClient } from '../../lib/store/cosmos-factory.js';
import type { DocumentStore } from '../../lib/store/documents.js';
import { startTestCosmos } from '../fakes/cosmos.js';
import { manageDeps } from '../helpers/endpoints.js';
import { makeCsr, rsaKey } from '../helpers/pki.js';

const csr = parseCsr(await makeCsr({ key: rsaKey(2048, 'authorizer'), subject: 'CN=device' }));

async function setup(docs?: DocumentStore) {
  const d = manageDeps(docs ? { docs } : {});
  await createEndpoint(d, { name: 'lab', type: 'device-scep' });
  const authorizer = new AccountAuthorizer('lab', accountsOf(d.docs), d.clock);
  const check = (challengePassword: string | undefined) =>
    authorizer.challenge({ endpoint: 'lab', transactionId: 't', csr, challengePassword });
  const account = async (input: Record<string, unknown> = {}) => {
    const r = await createAccount(d, 'lab', { name: 'mdm', ...input });
    if (!('challenge' in r)) throw new Error('expected a challenge');
    return r;
  };
  return { d, check, account };
}

describe('account challenges', () => {
  it('ok/the challenge authorizes, names the account, its organization and department, and counts a use', async () => {
    const { d, check, account } = await setup();
    const a = await account({ organization: 'contoso', department: 'it' });
    const r = await check(a.challenge);
    expect(r).toEqual({
      ok: true,
      authorization: 'account',
      requester: `account:${a.account.id}`,
      account: { id: a.account.id, organization: 'contoso', department: 'it' },
    });
    expect(await check(a.challenge.toLowerCase())).toMatchObject({ ok: true });
    const stored = await accountsOf(d.docs).get(a.account.id, 'lab');
    expect(stored).toMatchObject({ uses: 2, lastUsedAt: '2026-12-01T12:00:00.000Z' });
  });

  it.each([
    [undefined, 'challenge-missing'],
    ['', 'challenge-missing'],
    ['static-password', 'challenge-malformed'],
    ['0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF', 'account-unknown'],
  ])('fail/challenge %j → %s', async (challenge, reason) => {
    const { check } = await setup();
    expect(await check(challenge)).toMatchObject({ ok: false, reason });
  });

  it('fail/the right account id with a wrong secret → account-secret-mismatch', async () => {
    const { check, account } = await setup();
    const a = await account();
    const wrong = a.challenge.slice(0, 16) + 'F'.repeat(32);
    expect(await check(wrong)).toMatchObject({ ok: false, reason: 'account-secret-mismatch' });
  });

  it('fail/a disabled account → account-disabled', async () => {
    const { d, check, account } = await setup();
    const a = await account();
    await updateAccount(d, 'lab', a.account.id, { enabled: false });
    expect(await check(a.challenge)).toMatchObject({ ok: false, reason: 'account-disabled' });
  });

  it('fail/an expired account → account-expired', async () => {
    const { d, check, account } = await setup();
    const a = await account({ expiresAt: '2026-12-01T13:00:00Z' });
    expect(await check(a.challenge)).toMatchObject({ ok: true });
    d.setNow(new Date('2026-12-01T13:00:00Z'));
    expect(await check(a.challenge)).toMatchObject({ ok: false, reason: 'account-expired' });
  });

  it('fail/an account past maxUses → account-used-up', async () => {
    const { check, account } = await setup();
    const a = await account({ maxUses: 2 });
    expect(await check(a.challenge)).toMatchObject({ ok: true });
    expect(await check(a.challenge)).toMatchObject({ ok: true });
    expect(await check(a.challenge)).toMatchObject({ ok: false, reason: 'account-used-up' });
  });

  it('fail/an ndes account password is not a challenge', async () => {
    const { d, check } = await setup();
    const r = await createAccount(d, 'lab', { name: 'jamf', kind: 'ndes' });
    if (!('password' in r)) throw new Error('expected credentials');
    expect(await check(`${r.account.id}${r.password}`)).toMatchObject({
      ok: false,
      reason: 'account-unknown',
    });
  });

  it('fail/another endpoint’s challenge → account-unknown', async () => {
    const { d, check } = await setup();
    await createEndpoint(d, { name: 'other', type: 'device-scep' });
    const r = await createOneTimeChallenge(d, 'other');
    expect(await check(r.challenge)).toMatchObject({ ok: false, reason: 'account-unknown' });
  });

  it('ok/20 simultaneous uses of one one-time challenge → exactly one passes', async () => {
    const { d, check } = await setup();
    const r = await createOneTimeChallenge(d, 'lab');
    const results = await Promise.all(Array.from({ length: 20 }, () => check(r.challenge)));
    expect(results.filter((x) => x.ok)).toHaveLength(1);
    const reasons = new Set(results.flatMap((x) => (x.ok ? [] : [x.reason])));
    expect(reasons).toEqual(new Set(['account-used-up']));
    expect((await accountsOf(d.docs).get(r.account.id, 'lab'))?.uses).toBe(1);
  });

  it('fail/an expired one-time challenge → account-expired', async () => {
    const { d, check } = await setup();
    const r = await createOneTimeChallenge(d, 'lab');
    d.setNow(new Date('2026-12-01T13:00:01Z'));
    expect(await check(r.challenge)).toMatchObject({ ok: false, reason: 'account-expired' });
  });

  it('ok/96 simultaneous uses of an account without maxUses (Cosmos DB through the local server) → all pass, 96 counted', async () => {
    const cosmos = await startTestCosmos();
    const settings = cosmos.settings({ databaseName: 'account-busy' });
    const client = createCosmosClient(settings);
    try {
      const docs = new CosmosDocumentStore({
        client,
        databaseName: settings.databaseName,
        timeoutMs: settings.timeoutMs,
        createIfNotExists: true,
      });
      const { d, check, account } = await setup(docs);
      const a = await account();
      const results = await Promise.all(Array.from({ length: 96 }, () => check(a.challenge)));
      expect(results.filter((x) => !x.ok)).toEqual([]);
      expect((await accountsOf(d.docs).get(a.account.id, 'lab'))?.uses).toBe(96);
    } finally {
      client.dispose();
      await cosmos.close();
    }
  }, 60_000);
});
