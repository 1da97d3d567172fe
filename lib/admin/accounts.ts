import {
  createAccount,
  createOneTimeChallenge,
  deleteAccount,
  getAccount,
  listAccounts,
  updateAccount,
  type CreatedAccount,
} from '../endpoints/accounts.js';
import type { ManageDeps } from '../endpoints/manage.js';
import type { AccountView } from '../model/account.js';
import { soleOwner, type Endpoint } from '../model/endpoint.js';
import type { ChangePlace } from '../audit/changes.js';
import { DEFAULT_PAGE_SIZE, type Stored } from '../store/documents.js';
import { pageFor } from './scoped-page.js';
import type { ChangeLog } from './audit.js';
import type { Endpoints } from './endpoints.js';
import type { Organizations } from './organizations.js';
import { invalid } from '../model/problems.js';
import type { Page, PageRequest, Versioned } from './paging.js';
import { requirePermission, type Actor } from './roles.js';
import { hidden, inScope, requireWritable, type Owner } from './scope.js';

/**
 * An account belongs to its organization/department, or else to its endpoint's delegation. The
 * same holds for what a create body or an account after a patch names.
 */
function owners(a: unknown, e: Endpoint): readonly Owner[] {
  const { organization, department } = (a !== null && typeof a === 'object' ? a : {}) as {
    organization?: unknown;
    department?: unknown;
  };
  if (typeof organization !== 'string') return e.delegatedTo;
  return [{ organization, department: typeof department === 'string' ? department : undefined }];
}

/**
 * A body that is no object, or an owner of the wrong type (a number), is a bad request (400),
 * checked before the owner decides the scope (403): `owners` would read it as no owner at all,
 * i.e. the endpoint's whole delegation. `null` (a merge patch's removal) is left to the schema.
 */
function requireOwnerIds(input: unknown, what: string): void {
  if (input === null || typeof input !== 'object' || Array.isArray(input))
    throw invalid(what, ['must be a JSON object']);
  const b = input as Record<string, unknown>;
  const wrong = (['organization', 'department'] as const).filter(
    (k) => b[k] != null && typeof b[k] !== 'string',
  );
  if (wrong.length > 0)
    throw invalid(
      what,
      wrong.map((k) => `${k}: expected a string`),
    );
}

const view = ({ etag, ...value }: Stored<AccountView>): Versioned<AccountView> => ({ value, etag });

/**
 * Where an account's change is audited: its endpoint and its owner, which for an account that
 * names none is the endpoint's delegation, so that its organization's administrators read it.
 */
const where = (e: Endpoint, a: AccountView): ChangePlace => ({
  endpoint: e.name,
  ...soleOwner(owners(a, e)),
});

/**
 * Accounts and one-time challenges of an endpoint: CA.Admin and CA.Operator (in scope) manage
 * them, CA.Auditor reads. The endpoint must be visible first (404), then the account (404), then
 * the role decides (403). The secret is in the answer to the create call only and never logged.
 */
export class Accounts {
  constructor(
    private readonly d: ManageDeps,
    private readonly endpoints: Endpoints,
    private readonly changes: ChangeLog,
    private readonly orgs: Pick<Organizations, 'exists'>,
  ) {}

  async list(actor: Actor, endpoint: string, page: PageRequest): Promise<Page<AccountView>> {
    const e = await this.endpoints.find(actor, endpoint);
    const r = await pageFor(
      actor,
      (p) => listAccounts(this.d, endpoint, p),
      (a) => inScope(actor, owners(a, e)),
      page,
      DEFAULT_PAGE_SIZE,
    );
    return { value: r.items.map((a) => view(a).value), continuationToken: r.continuationToken };
  }

  async get(actor: Actor, endpoint: string, id: string): Promise<Versioned<AccountView>> {
    return view((await this.find(actor, endpoint, id)).a);
  }

  /** The account and its endpoint, when the actor may see both; NOT_FOUND otherwise. */
  private async find(
    actor: Actor,
    endpoint: string,
    id: string,
  ): Promise<{ e: Endpoint; a: Stored<AccountView> }> {
    const e = await this.endpoints.find(actor, endpoint);
    const a = await getAccount(this.d, endpoint, id);
    if (!a || !inScope(actor, owners(a, e))) throw hidden(`account '${id}'`);
    return { e, a };
  }

  /** Find an account to change: in scope (404), a role that operates (403), owned by the actor (403). */
  private async forChange(actor: Actor, endpoint: string, id: string) {
    const found = await this.find(actor, endpoint, id);
    requirePermission(actor, 'operate');
    requireWritable(actor, owners(found.a, found.e), 'the account');
    return { e: found.e, before: view(found.a) };
  }

  /** 201 body: the account plus `challenge`, or `username` and `password` for an `ndes` account. */
  async create(actor: Actor, endpoint: string, body: unknown): Promise<Versioned<Record<string, unknown>>> {
    const e = await this.endpoints.find(actor, endpoint);
    requirePermission(actor, 'operate');
    const input = withOwner(actor, e, body);
    requireOwnerIds(input, 'account');
    requireWritable(actor, owners(input, e), 'an account');
    await this.requireKnownOwner(input, 'account');
    const created: CreatedAccount = await createAccount(this.d, endpoint, input);
    const { account, ...secret } = created;
    this.changes.recordChange(
      actor,
      'account.create',
      `endpoints/${endpoint}/accounts/${account.id}`,
      null,
      view(account).value,
      where(e, account),
    );
    return { value: { ...view(account).value, ...secret }, etag: account.etag };
  }

  async update(
    actor: Actor,
    endpoint: string,
    id: string,
    patch: unknown,
    ifMatch?: string,
  ): Promise<Versioned<AccountView>> {
    const { e, before } = await this.forChange(actor, endpoint, id);
    if (patch !== null && typeof patch === 'object' && ('organization' in patch || 'department' in patch)) {
      // The owner the patch leaves (null removes): a department alone moves the account within
      // its organization.
      const p = patch as { organization?: unknown; department?: unknown };
      requireOwnerIds(p, 'account');
      const owner = {
        organization: 'organization' in p ? p.organization : before.value.organization,
        department: 'department' in p ? p.department : before.value.department,
      };
      requireWritable(actor, owners(owner, e), 'an account');
      await this.requireKnownOwner(owner, 'account');
    }
    const a = await updateAccount(this.d, endpoint, id, patch, ifMatch ?? before.etag);
    const target = `endpoints/${endpoint}/accounts/${id}`;
    const [from, to] = [where(e, before.value), where(e, a)];
    this.changes.recordChange(actor, 'account.update', target, before.value, view(a).value, to);
    // An event has one owner, and an auditor reads its own: an account moved to another owner is
    // recorded under the one it left as well, so that its auditors see it go.
    if (from.organization !== to.organization || from.department !== to.department) {
      this.changes.recordChange(actor, 'account.move', target, before.value, view(a).value, from);
    }
    return view(a);
  }

  async delete(actor: Actor, endpoint: string, id: string, ifMatch?: string): Promise<void> {
    const { e, before } = await this.forChange(actor, endpoint, id);
    await deleteAccount(this.d, endpoint, id, ifMatch ?? before.etag);
    this.changes.recordChange(
      actor,
      'account.delete',
      `endpoints/${endpoint}/accounts/${id}`,
      before.value,
      null,
      where(e, before.value),
    );
  }

  /** `POST endpoints/{name}/challenges`: a challenge valid once, for `minutes` (default 60). */
  async challenge(
    actor: Actor,
    endpoint: string,
    body: unknown,
  ): Promise<Versioned<{ challenge: string; expiresAt: string; id: string }> & { location: string }> {
    const e = await this.endpoints.find(actor, endpoint);
    requirePermission(actor, 'operate');
    const input = withOwner(actor, e, body ?? {});
    requireOwnerIds(input, 'challenge');
    requireWritable(actor, owners(input, e), 'a one-time challenge');
    await this.requireKnownOwner(input, 'challenge');
    const r = await createOneTimeChallenge(this.d, endpoint, input);
    this.changes.recordChange(
      actor,
      'challenge.create',
      `endpoints/${endpoint}/accounts/${r.account.id}`,
      null,
      view(r.account).value,
      where(e, r.account),
    );
    const location = `/api/manage/endpoints/${encodeURIComponent(endpoint)}/accounts/${r.account.id}`;
    return { value: { challenge: r.challenge, expiresAt: r.expiresAt, id: r.account.id }, location };
  }

  /**
   * The organization and department an account names must exist (400), as an endpoint's
   * delegation must: an account of a misspelt department is in no administrator's scope.
   * Values of the wrong type are left to the schema.
   */
  private async requireKnownOwner(input: unknown, what: string): Promise<void> {
    const { organization: org, department: dept } = (input ?? {}) as Record<string, unknown>;
    const named = (v: unknown): v is string => typeof v === 'string';
    if (!named(org)) {
      if (named(dept) && org == null) throw invalid(what, ['department: needs an organization']);
      return;
    }
    if (!(await this.orgs.exists(org)))
      throw invalid(what, [`organization: there is no organization "${org}"`]);
    if (named(dept) && !(await this.orgs.exists(org, dept)))
      throw invalid(what, [`department: "${org}" has no department "${dept}"`]);
  }
}

/**
 * A scoped caller who names no organization gets the first of its scope entries that the
 * endpoint is delegated to, so that the new account is in the caller's own scope.
 */
function withOwner(actor: Actor, e: Endpoint, body: unknown): unknown {
  if (actor.scope === 'all' || body === null || typeof body !== 'object' || Array.isArray(body)) return body;
  const b = body as Record<string, unknown>;
  if (b.organization !== undefined) return body;
  const entry = actor.scope.find((s) => inScope({ ...actor, scope: [s] }, e.delegatedTo));
  // A department named in the body stays: the owner check refuses one outside the scope.
  return entry
    ? {
        organization: entry.organization,
        ...(entry.department ? { department: entry.department } : {}),
        ...b,
      }
    : body;
}
