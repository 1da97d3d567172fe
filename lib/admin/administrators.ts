import { z } from 'zod';
import { delegationSchema } from '../model/endpoint.js';
import { invalid, zodProblems } from '../model/problems.js';
import type { DocumentCollection, Stored } from '../store/documents.js';
import type { ChangeLog } from './audit.js';
import { soleOwner } from '../model/endpoint.js';
import type { Organizations } from './organizations.js';
import { docPage, type Page, type PageRequest, type Versioned } from './paging.js';
import { ROLES, requirePermission, type Actor } from './roles.js';
import { hidden, requireWritable } from './scope.js';

/**
 * Administrators' scopes: an Entra user or group object id mapped to the organizations and
 * departments it administers. The role comes from the token's app role; `role` here can only
 * lower it (e.g. a group whose members are operators elsewhere but only auditors here).
 */
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const administratorSchema = z.strictObject({
  kind: z.enum(['user', 'group']).default('user'),
  displayName: z.string().min(1).max(200).optional(),
  role: z.enum(ROLES).optional(),
  scopes: z.array(delegationSchema).max(200),
});
export type AdministratorDoc = z.output<typeof administratorSchema> & { readonly id: string };
export type Administrator = Omit<AdministratorDoc, 'id'> & { readonly principalId: string };

const view = ({ id, etag, ...rest }: Stored<AdministratorDoc>): Versioned<Administrator> => ({
  value: { principalId: id, ...rest },
  etag,
});

/** CA.Admin only: who administers what is itself configuration. */
export class Administrators {
  constructor(
    private readonly docs: DocumentCollection<AdministratorDoc>,
    private readonly orgs: Organizations,
    private readonly changes: ChangeLog,
  ) {}

  async list(actor: Actor, page: PageRequest): Promise<Page<Administrator>> {
    requirePermission(actor, 'configure');
    const r = await this.docs.list({}, docPage(page));
    return { value: r.items.map((d) => view(d).value), continuationToken: r.continuationToken };
  }

  async get(actor: Actor, principalId: string): Promise<Versioned<Administrator>> {
    requirePermission(actor, 'configure');
    return view(await this.find(principalId));
  }

  /** Create or replace one principal's scope (PUT: the whole document). */
  async put(
    actor: Actor,
    principalId: string,
    body: unknown,
    ifMatch?: string,
  ): Promise<Versioned<Administrator>> {
    requirePermission(actor, 'configure');
    const id = principalId.toLowerCase();
    const parsed = administratorSchema.safeParse(body);
    const problems = [
      ...(GUID.test(id) ? [] : ['principalId: must be an Entra object id (GUID)']),
      ...(parsed.success ? await this.unknownScopes(parsed.data.scopes) : zodProblems(parsed.error)),
    ];
    if (!parsed.success || problems.length > 0) throw invalid('administrator', problems);
    const doc: AdministratorDoc = { ...parsed.data, id };
    const current = await this.docs.get(id, id);
    requireWritable(actor, [...(current?.scopes ?? []), ...doc.scopes], 'the administrator');
    const stored = current
      ? await this.docs.replace(doc, ifMatch ?? current.etag)
      : await this.docs.create(doc);
    const before = current ? view(current).value : null;
    this.changes.recordChange(
      actor,
      current ? 'administrator.update' : 'administrator.create',
      `administrators/${id}`,
      before,
      doc,
      soleOwner(doc.scopes),
    );
    return view(stored);
  }

  async delete(actor: Actor, principalId: string, ifMatch?: string): Promise<void> {
    requirePermission(actor, 'configure');
    const current = await this.find(principalId);
    requireWritable(actor, current.scopes, 'the administrator');
    await this.docs.delete(current.id, current.id, ifMatch ?? current.etag);
    this.changes.recordChange(
      actor,
      'administrator.delete',
      `administrators/${current.id}`,
      view(current).value,
      null,
      soleOwner(current.scopes),
    );
  }

  private async find(principalId: string): Promise<Stored<AdministratorDoc>> {
    const id = principalId.toLowerCase();
    const d = GUID.test(id) ? await this.docs.get(id, id) : undefined;
    if (!d) throw hidden(`administrator '${principalId}'`);
    return d;
  }

  /** Scope entries naming an organization or department that does not exist. */
  private async unknownScopes(scopes: AdministratorDoc['scopes']): Promise<string[]> {
    const out: string[] = [];
    for (const [i, s] of scopes.entries()) {
      if (!(await this.orgs.exists(s.organization, s.department))) {
        const name = s.department === undefined ? s.organization : `${s.organization}/${s.department}`;
        out.push(`scopes.${i}: there is no organization/department "${name}"`);
      }
    }
    return out;
  }
}
