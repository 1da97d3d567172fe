import { AppError } from '../errors.js';
import type { Account } from '../model/account.js';
import {
  BUILT_IN_NAMES,
  endpointInputSchema,
  endpointUpdateSchema,
  isIntuneType,
  type Delegation,
  type Endpoint,
  type EndpointType,
  type IntuneConnection,
} from '../model/endpoint.js';
import { mergePatch } from '../model/merge-patch.js';
import type { Organization } from '../model/organization.js';
import { invalid, zodProblems } from '../model/problems.js';
import { profileProblems } from '../model/profile.js';
import { allPages, type DocPage, type DocumentStore, type Stored } from '../store/documents.js';

/**
 * Management use cases for endpoints: the management API and the CLI call these; the request
 * path only reads (EndpointRegistry). Every change is validated as a whole and refused with
 * every problem listed (AppError BAD_REQUEST, `detail.problems`).
 */
export interface ManageDeps {
  readonly docs: DocumentStore;
  readonly clock: () => Date;
  /** The CA-wide validity cap (AppConfig__ValidityPeriodDays). */
  readonly maxValidityDays: number;
  /** The settings-defined endpoints, shown read-only. */
  readonly builtIns: readonly Endpoint[];
}

const BUILT_IN_ETAG = 'built-in';
export const endpointsOf = (docs: DocumentStore) => docs.collection<Endpoint>('endpoints');
export const accountsOf = (docs: DocumentStore) => docs.collection<Account>('accounts');

export async function createEndpoint(d: ManageDeps, input: unknown): Promise<Stored<Endpoint>> {
  const parsed = endpointInputSchema.safeParse(input);
  if (!parsed.success) throw invalid('endpoint', zodProblems(parsed.error));
  const v = parsed.data;
  const problems = await endpointProblems(d, v.type, v);
  if (
    (BUILT_IN_NAMES as readonly string[]).includes(v.name) ||
    (await endpointsOf(d.docs).get(v.name, v.name))
  )
    problems.push(`name: an endpoint named "${v.name}" exists`);
  if (problems.length > 0) throw invalid('endpoint', problems);
  const now = d.clock().toISOString();
  const doc: Endpoint = {
    id: v.name,
    name: v.name,
    displayName: v.displayName ?? v.name,
    type: v.type,
    enabled: v.enabled,
    profile: v.profile,
    delegatedTo: v.delegatedTo,
    ...(v.intune ? { intune: v.intune } : {}),
    ra: v.ra,
    createdAt: now,
    updatedAt: now,
  };
  try {
    return await endpointsOf(d.docs).create(doc);
  } catch (e) {
    if (e instanceof AppError && e.code === 'CONFLICT')
      throw invalid('endpoint', [`name: an endpoint named "${v.name}" exists`]);
    throw e;
  }
}

/** A stored or built-in endpoint; undefined when there is none of that name. */
export async function getEndpoint(d: ManageDeps, name: string): Promise<Stored<Endpoint> | undefined> {
  const builtIn = d.builtIns.find((e) => e.name === name);
  if (builtIn) return { ...builtIn, etag: BUILT_IN_ETAG };
  return endpointsOf(d.docs).get(name, name);
}

/** Built-ins first (on the first page), then stored endpoints by name. */
export async function listEndpoints(
  d: ManageDeps,
  page: { readonly top?: number; readonly continuationToken?: string } = {},
): Promise<DocPage<Endpoint>> {
  const stored = await endpointsOf(d.docs).list({}, page);
  if (page.continuationToken !== undefined) return stored;
  return { ...stored, items: [...d.builtIns.map((e) => ({ ...e, etag: BUILT_IN_ETAG })), ...stored.items] };
}

/** Apply a JSON merge patch (RFC 7396); `ifMatch` guards against lost updates (412). */
export async function updateEndpoint(
  d: ManageDeps,
  name: string,
  patch: unknown,
  ifMatch?: string,
): Promise<Stored<Endpoint>> {
  const current = await existing(d, name);
  const { name: n, type, createdAt } = current;
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch))
    throw invalid('patch', ['must be a JSON object']);
  const p = { ...(patch as Record<string, unknown>) };
  const problems: string[] = [];
  if ('name' in p && p.name !== n) problems.push('name: cannot be changed');
  if ('type' in p && p.type !== type) problems.push('type: cannot be changed');
  delete p.name;
  delete p.type;
  const editable = {
    displayName: current.displayName,
    enabled: current.enabled,
    profile: current.profile,
    delegatedTo: current.delegatedTo,
    ...(current.intune ? { intune: current.intune } : {}),
    ra: current.ra ?? { enabled: false },
  };
  const parsed = endpointUpdateSchema.safeParse(mergePatch(editable, p));
  if (!parsed.success) throw invalid('endpoint', [...problems, ...zodProblems(parsed.error)]);
  problems.push(...(await endpointProblems(d, type, parsed.data)));
  if (problems.length > 0) throw invalid('endpoint', problems);
  const v = parsed.data;
  const next: Endpoint = {
    id: current.id,
    name: n,
    type,
    displayName: v.displayName,
    enabled: v.enabled,
    profile: v.profile,
    delegatedTo: v.delegatedTo,
    ...(v.intune ? { intune: v.intune } : {}),
    ra: v.ra,
    createdAt,
    updatedAt: d.clock().toISOString(),
  };
  return endpointsOf(d.docs).replace(next, ifMatch ?? current.etag);
}

/** Delete an endpoint and its accounts; false when there is none. */
export async function deleteEndpoint(d: ManageDeps, name: string, ifMatch?: string): Promise<boolean> {
  if (d.builtIns.some((e) => e.name === name)) throw readOnly(name);
  const current = await endpointsOf(d.docs).get(name, name);
  if (!current) return false;
  const removed = await endpointsOf(d.docs).delete(name, name, ifMatch ?? current.etag);
  const accounts = accountsOf(d.docs);
  for await (const items of allPages(accounts, {}, name))
    await Promise.all(items.map((a) => accounts.delete(a.id, name)));
  return removed;
}

/** A stored endpoint by name; NOT_FOUND, or METHOD_NOT_ALLOWED for a built-in. */
export async function existing(d: ManageDeps, name: string): Promise<Stored<Endpoint>> {
  if (d.builtIns.some((e) => e.name === name)) throw readOnly(name);
  const e = await endpointsOf(d.docs).get(name, name);
  if (!e) throw new AppError('NOT_FOUND', `there is no endpoint named "${name}"`);
  return e;
}

const readOnly = (name: string): AppError =>
  new AppError('METHOD_NOT_ALLOWED', `the endpoint "${name}" is defined by settings and is read-only`);

async function endpointProblems(
  d: ManageDeps,
  type: EndpointType,
  v: {
    profile: Endpoint['profile'];
    delegatedTo: readonly Delegation[];
    intune?: IntuneConnection | undefined;
  },
): Promise<string[]> {
  const problems = profileProblems(v.profile, d.maxValidityDays);
  if (isIntuneType(type) && !v.intune) problems.push(`intune: required for a ${type} endpoint`);
  if (!isIntuneType(type) && v.intune) problems.push(`intune: only Intune-type endpoints have a connection`);
  const orgs = d.docs.collection<Organization>('organizations');
  for (const [i, g] of v.delegatedTo.entries()) {
    const org = await orgs.get(g.organization, g.organization);
    if (!org) problems.push(`delegatedTo.${i}.organization: there is no organization "${g.organization}"`);
    else if (g.department !== undefined && !org.departments.some((x) => x.id === g.department))
      problems.push(`delegatedTo.${i}.department: "${g.organization}" has no department "${g.department}"`);
  }
  return problems;
}
