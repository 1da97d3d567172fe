import {
  createEndpoint,
  deleteEndpoint,
  getEndpoint,
  listEndpoints,
  updateEndpoint,
  type ManageDeps,
} from '../endpoints/manage.js';
import type { ChangePlace } from '../audit/changes.js';
import { delegationSchema, soleOwner, type Endpoint } from '../model/endpoint.js';
import { DEFAULT_PAGE_SIZE, type Stored } from '../store/documents.js';
import { pageFor } from './scoped-page.js';
import type { ChangeLog } from './audit.js';
import type { Page, PageRequest, Versioned } from './paging.js';
import { requirePermission, type Actor } from './roles.js';
import { hidden, inScope, requireWritable, type Owner } from './scope.js';

/** An endpoint's owners: the organizations/departments it is delegated to (built-ins: none). */
export const endpointOwners = (e: Endpoint): Endpoint['delegatedTo'] => e.delegatedTo;

/**
 * The delegations a create body or a patch names (undefined: the patch leaves them); a value
 * the schema refuses names none here and is answered 400 by the use case.
 */
function delegationsNamed(body: unknown): readonly Owner[] | undefined {
  if (body === null || typeof body !== 'object' || !('delegatedTo' in body)) return undefined;
  return delegationSchema.array().safeParse(body.delegatedTo).data ?? [];
}

/** Where an endpoint's changes are audited: its partition, its one owner if it has one. */
export const place = (e: Endpoint): ChangePlace => ({ endpoint: e.name, ...soleOwner(endpointOwners(e)) });

/** The API's view; endpoints stored before `intune.revocationEnabled` existed show its default. */
const view = ({ etag, ...value }: Stored<Endpoint>): Versioned<Endpoint> => ({
  value: value.intune
    ? { ...value, intune: { ...value.intune, revocationEnabled: value.intune.revocationEnabled ?? false } }
    : value,
  etag,
});

/**
 * Endpoints through the management API: the domain use cases (lib/endpoints/manage.ts) behind
 * scope (out of scope: 404), role (in scope but not allowed: 403) and the change log. Only
 * CA.Admin configures endpoints; operators and auditors read those delegated to them.
 */
export class Endpoints {
  constructor(
    private readonly d: ManageDeps,
    private readonly changes: ChangeLog,
    /** This instance's endpoint cache (EndpointRegistry), told of every change. */
    private readonly cache: { forget(name: string): void },
  ) {}

  async list(actor: Actor, page: PageRequest): Promise<Page<Endpoint>> {
    requirePermission(actor, 'read');
    const r = await pageFor(
      actor,
      (p) => listEndpoints(this.d, p),
      (e) => inScope(actor, endpointOwners(e)),
      page,
      DEFAULT_PAGE_SIZE,
    );
    return { value: r.items.map((e) => view(e).value), continuationToken: r.continuationToken };
  }

  async get(actor: Actor, name: string): Promise<Versioned<Endpoint>> {
    return view(await this.find(actor, name));
  }

  /** The endpoint when it exists and the actor may see it; NOT_FOUND otherwise. */
  async find(actor: Actor, name: string): Promise<Stored<Endpoint>> {
    const e = await getEndpoint(this.d, name);
    if (!e || !inScope(actor, endpointOwners(e))) throw hidden(`endpoint '${name}'`);
    requirePermission(actor, 'read');
    return e;
  }

  async create(actor: Actor, body: unknown): Promise<Versioned<Endpoint>> {
    requirePermission(actor, 'configure');
    requireWritable(actor, delegationsNamed(body) ?? [], 'the endpoint');
    const e = await createEndpoint(this.d, body);
    this.cache.forget(e.name);
    this.changes.recordChange(actor, 'endpoint.create', `endpoints/${e.name}`, null, view(e).value, place(e));
    return view(e);
  }

  async update(actor: Actor, name: string, patch: unknown, ifMatch?: string): Promise<Versioned<Endpoint>> {
    const before = await this.find(actor, name);
    requirePermission(actor, 'configure');
    requireWritable(actor, endpointOwners(before), 'the endpoint');
    const after = delegationsNamed(patch);
    if (after) requireWritable(actor, after, 'the endpoint');
    const e = await updateEndpoint(this.d, name, patch, ifMatch);
    this.cache.forget(name);
    this.changes.recordChange(
      actor,
      'endpoint.update',
      `endpoints/${name}`,
      view(before).value,
      view(e).value,
      place(e),
    );
    return view(e);
  }

  async delete(actor: Actor, name: string, ifMatch?: string): Promise<void> {
    const before = await this.find(actor, name);
    requirePermission(actor, 'configure');
    requireWritable(actor, endpointOwners(before), 'the endpoint');
    if (!(await deleteEndpoint(this.d, name, ifMatch))) throw hidden(`endpoint '${name}'`);
    this.cache.forget(name);
    this.changes.recordChange(
      actor,
      'endpoint.delete',
      `endpoints/${name}`,
      view(before).value,
      null,
      place(before),
    );
  }
}
