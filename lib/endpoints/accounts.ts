import { AppError } from '../errors.js';
import {
  accountInputSchema,
  accountUpdateSchema,
  oneTimeInputSchema,
  type Account,
  type AccountView,
} from '../model/account.js';
import { isIntuneType, type Endpoint } from '../model/endpoint.js';
import { mergePatch } from '../model/merge-patch.js';
import { invalid, zodProblems } from '../model/problems.js';
import type { DocPage, Stored } from '../store/documents.js';
import { accountsOf, existing, type ManageDeps } from './manage.js';
import { hashSecret, newAccountId, newSecret } from './secrets.js';

/**
 * Management use cases for accounts and one-time challenges of SCEP-type endpoints. The
 * secret is returned once, by the call that creates it; afterwards only its hash exists.
 */

/** A created account with its secret: `challenge`, or for `ndes` a username and password. */
export type CreatedAccount =
  | { readonly account: Stored<AccountView>; readonly challenge: string }
  | { readonly account: Stored<AccountView>; readonly username: string; readonly password: string };

export const accountView = <T extends Account>(a: T): Omit<T, 'secret'> =>
  Object.fromEntries(Object.entries(a).filter(([k]) => k !== 'secret')) as Omit<T, 'secret'>;

/** The NDES page's username: `<endpoint>.<account id>` (found without the URL's endpoint). */
export const ndesUsername = (a: Pick<Account, 'endpoint' | 'id'>): string => `${a.endpoint}.${a.id}`;

export async function createAccount(
  d: ManageDeps,
  endpointName: string,
  input: unknown,
): Promise<CreatedAccount> {
  const endpoint = await scepEndpoint(d, endpointName);
  const parsed = accountInputSchema.safeParse(input);
  if (!parsed.success) throw invalid('account', zodProblems(parsed.error));
  const v = parsed.data;
  const problems = expiryProblems(d, v.expiresAt);
  if (problems.length > 0) throw invalid('account', problems);
  const secret = newSecret();
  const now = d.clock().toISOString();
  const stored = await accountsOf(d.docs).create({
    id: newAccountId(),
    endpoint: endpoint.id,
    kind: v.kind,
    name: v.name,
    organization: v.organization,
    department: v.department,
    enabled: v.enabled,
    expiresAt: v.expiresAt,
    maxUses: v.maxUses,
    uses: 0,
    secret: await hashSecret(secret),
    createdAt: now,
    updatedAt: now,
  });
  const account = accountView(stored);
  return v.kind === 'ndes'
    ? { account, username: ndesUsername(stored), password: secret }
    : { account, challenge: `${stored.id}${secret}` };
}

/**
 * A challenge valid for one enrollment until it expires (default 60 minutes, as NDES): an
 * account with maxUses 1. Organization and department default to `from`'s (the NDES account
 * that asked for it).
 */
export async function createOneTimeChallenge(
  d: ManageDeps,
  endpointName: string,
  input: unknown = {},
  from?: Pick<Account, 'organization' | 'department' | 'name'>,
): Promise<{
  readonly challenge: string;
  readonly expiresAt: string;
  readonly account: Stored<AccountView>;
}> {
  const endpoint = await scepEndpoint(d, endpointName);
  const parsed = oneTimeInputSchema.safeParse(input ?? {});
  if (!parsed.success) throw invalid('challenge', zodProblems(parsed.error));
  const now = d.clock();
  const expiresAt = new Date(now.getTime() + parsed.data.minutes * 60_000).toISOString();
  const secret = newSecret();
  const stored = await accountsOf(d.docs).create({
    id: newAccountId(),
    endpoint: endpoint.id,
    kind: 'one-time',
    name: from ? `one-time (${from.name})` : 'one-time',
    organization: parsed.data.organization ?? from?.organization,
    department: parsed.data.department ?? from?.department,
    enabled: true,
    expiresAt,
    maxUses: 1,
    uses: 0,
    secret: await hashSecret(secret),
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
  });
  return { challenge: `${stored.id}${secret}`, expiresAt, account: accountView(stored) };
}

export async function listAccounts(
  d: ManageDeps,
  endpointName: string,
  page: { readonly top?: number; readonly continuationToken?: string } = {},
): Promise<DocPage<AccountView>> {
  const endpoint = await existing(d, endpointName);
  const r = await accountsOf(d.docs).list({}, { ...page, partition: endpoint.id });
  return { ...r, items: r.items.map(accountView) };
}

export async function getAccount(
  d: ManageDeps,
  endpointName: string,
  id: string,
): Promise<Stored<AccountView> | undefined> {
  const endpoint = await existing(d, endpointName);
  const a = await accountsOf(d.docs).get(id, endpoint.id);
  return a && accountView(a);
}

/** Apply a JSON merge patch to an account (name, organization, enabled, expiry, max uses). */
export async function updateAccount(
  d: ManageDeps,
  endpointName: string,
  id: string,
  patch: unknown,
  ifMatch?: string,
): Promise<Stored<AccountView>> {
  const endpoint = await existing(d, endpointName);
  const current = await accountsOf(d.docs).get(id, endpoint.id);
  if (!current) throw new AppError('NOT_FOUND', `endpoint "${endpointName}" has no account ${id}`);
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch))
    throw invalid('patch', ['must be a JSON object']);
  const editable = {
    name: current.name,
    organization: current.organization,
    department: current.department,
    enabled: current.enabled,
    expiresAt: current.expiresAt,
    maxUses: current.maxUses,
  };
  const parsed = accountUpdateSchema.safeParse(stripUndefined(mergePatch(editable, patch)));
  if (!parsed.success) throw invalid('account', zodProblems(parsed.error));
  // What the patch removed (null, RFC 7396) is absent from parsed.data: not kept from current.
  const kept = Object.fromEntries(Object.entries(current).filter(([k]) => !(k in editable)));
  const next: Account = {
    ...(kept as Omit<Account, keyof typeof editable>),
    ...parsed.data,
    updatedAt: d.clock().toISOString(),
  };
  return accountView(await accountsOf(d.docs).replace(next, ifMatch ?? current.etag));
}

export async function deleteAccount(
  d: ManageDeps,
  endpointName: string,
  id: string,
  ifMatch?: string,
): Promise<boolean> {
  const endpoint = await existing(d, endpointName);
  return accountsOf(d.docs).delete(id, endpoint.id, ifMatch);
}

async function scepEndpoint(d: ManageDeps, name: string): Promise<Endpoint> {
  const endpoint = await existing(d, name);
  if (isIntuneType(endpoint.type))
    throw invalid('account', [`endpoint: "${name}" is an Intune endpoint; Intune issues its challenges`]);
  return endpoint;
}

function expiryProblems(d: ManageDeps, expiresAt: string | undefined): string[] {
  if (expiresAt === undefined || Date.parse(expiresAt) > d.clock().getTime()) return [];
  return ['expiresAt: lies in the past'];
}

function stripUndefined(v: unknown): unknown {
  return typeof v === 'object' && v !== null
    ? Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined))
    : v;
}
