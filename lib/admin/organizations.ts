import { AppError } from '../errors.js';
import { mergePatch } from '../model/merge-patch.js';
import { organizationInputSchema, type Department, type Organization } from '../model/organization.js';
import { invalid, zodProblems } from '../model/problems.js';
import { DEFAULT_PAGE_SIZE, type DocumentCollection, type Stored } from '../store/documents.js';
import { pageFor } from './scoped-page.js';
import type { ChangeLog } from './audit.js';
import type { OwnerReferences } from './references.js';
import type { Page, PageRequest, Versioned } from './paging.js';
import { requirePermission, type Actor } from './roles.js';
import { hidden, inScope, requireWritable } from './scope.js';

export const orgView = ({ etag, ...value }: Stored<Organization>): Versioned<Organization> => ({
  value,
  etag,
});

/** What an actor sees of an organization: an administrator of a department not its siblings. */
export const seenBy = (actor: Actor, o: Organization): Organization =>
  actor.scope === 'all'
    ? o
    : {
        ...o,
        departments: o.departments.filter((d) => inScope(actor, [{ organization: o.id, department: d.id }])),
      };

/** Organization use cases: read in scope, change as CA.Admin. Departments: ./departments.ts. */
export class Organizations {
  constructor(
    private readonly docs: DocumentCollection<Organization>,
    private readonly changes: ChangeLog,
    private readonly clock: () => Date,
    /** Refuses to delete what endpoints, administrators or accounts still name. */
    readonly references: OwnerReferences,
  ) {}

  async list(actor: Actor, page: PageRequest): Promise<Page<Organization>> {
    requirePermission(actor, 'read');
    const r = await pageFor(
      actor,
      (p) => this.docs.list({}, p),
      (d) => inScope(actor, [{ organization: d.id }]),
      page,
      DEFAULT_PAGE_SIZE,
    );
    return {
      value: r.items.map((d) => seenBy(actor, orgView(d).value)),
      continuationToken: r.continuationToken,
    };
  }

  async get(actor: Actor, id: string): Promise<Versioned<Organization>> {
    const v = orgView(await this.find(actor, id));
    return { ...v, value: seenBy(actor, v.value) };
  }

  /** The stored organization; NOT_FOUND when absent or outside the actor's scope. */
  async find(actor: Actor, id: string): Promise<Stored<Organization>> {
    const d = await this.docs.get(id, id);
    if (!d || !inScope(actor, [{ organization: d.id }])) throw hidden(`organization '${id}'`);
    requirePermission(actor, 'read');
    return d;
  }

  /** Does this organization (and department, when given) exist? */
  async exists(organization: string, department?: string): Promise<boolean> {
    const d = await this.docs.get(organization, organization);
    return d !== undefined && (department === undefined || d.departments.some((x) => x.id === department));
  }

  async create(actor: Actor, body: unknown): Promise<Versioned<Organization>> {
    requirePermission(actor, 'configure');
    const parsed = organizationInputSchema.safeParse(body);
    if (!parsed.success) throw invalid('organization', zodProblems(parsed.error));
    requireWritable(actor, [{ organization: parsed.data.id }], 'the organization');
    const now = this.clock().toISOString();
    const org: Organization = { ...parsed.data, createdAt: now, updatedAt: now };
    const stored = await this.docs.create(org);
    this.changes.recordChange(actor, 'organization.create', `organizations/${org.id}`, null, org, {
      organization: org.id,
    });
    return orgView(stored);
  }

  async update(actor: Actor, id: string, patch: unknown, ifMatch?: string): Promise<Versioned<Organization>> {
    const current = await this.find(actor, id);
    requirePermission(actor, 'configure');
    requireWritable(actor, [{ organization: id }], 'the organization');
    const editable = { id: current.id, displayName: current.displayName, departments: current.departments };
    const parsed = organizationInputSchema.safeParse(mergePatch(editable, patch));
    if (!parsed.success) throw invalid('organization', zodProblems(parsed.error));
    if (parsed.data.id !== id) throw invalid('organization', ['id: cannot be changed']);
    // Departments dropped by the patch are deleted: refused, as DELETE is, while still in use.
    for (const d of current.departments) {
      if (!parsed.data.departments.some((x) => x.id === d.id)) await this.references.requireUnused(id, d.id);
    }
    return this.save(
      actor,
      'organization.update',
      current,
      { ...parsed.data, createdAt: current.createdAt },
      ifMatch,
    );
  }

  async delete(actor: Actor, id: string, ifMatch?: string): Promise<void> {
    const current = await this.find(actor, id);
    requirePermission(actor, 'configure');
    requireWritable(actor, [{ organization: id }], 'the organization');
    await this.references.requireUnused(id);
    await this.docs.delete(id, id, ifMatch ?? current.etag);
    this.changes.recordChange(
      actor,
      'organization.delete',
      `organizations/${id}`,
      orgView(current).value,
      null,
      { organization: id },
    );
  }

  /**
   * Replace `current` with `next` (If-Match, else the etag read) and record the change. A change
   * of one department is recorded as that department's (`dept`: its id, before and after), so
   * that the administrators of the other departments do not read it in the audit trail.
   */
  async save(
    actor: Actor,
    action: string,
    current: Stored<Organization>,
    next: Omit<Organization, 'updatedAt'>,
    ifMatch?: string,
    dept?: { readonly id: string; readonly before: Department | null; readonly after: Department | null },
  ): Promise<Versioned<Organization>> {
    if (next.id !== current.id) throw new AppError('BAD_REQUEST', 'the id of an organization cannot change');
    const doc: Organization = {
      id: next.id,
      displayName: next.displayName,
      departments: next.departments,
      createdAt: next.createdAt,
      updatedAt: this.clock().toISOString(),
    };
    const stored = await this.docs.replace(doc, ifMatch ?? current.etag);
    if (dept) {
      this.changes.recordChange(
        actor,
        action,
        `organizations/${current.id}/departments/${dept.id}`,
        dept.before,
        dept.after,
        { organization: current.id, department: dept.id },
      );
    } else {
      this.changes.recordChange(actor, action, `organizations/${current.id}`, orgView(current).value, doc, {
        organization: current.id,
      });
    }
    return orgView(stored);
  }
}
