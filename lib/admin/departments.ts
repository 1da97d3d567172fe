import { mergePatch } from '../model/merge-patch.js';
import { departmentSchema, type Department, type Organization } from '../model/organization.js';
import { invalid, zodProblems } from '../model/problems.js';
import type { Stored } from '../store/documents.js';
import { AppError } from '../errors.js';
import { seenBy, type Organizations } from './organizations.js';
import type { Page, Versioned } from './paging.js';
import { requirePermission, type Actor } from './roles.js';
import { hidden, inScope, requireWritable } from './scope.js';

/**
 * Departments live inside their organization's document, so a department's etag is its
 * organization's: two administrators editing one organization's departments at once are
 * serialized by If-Match like any other change.
 */
export class Departments {
  constructor(private readonly orgs: Organizations) {}

  async list(actor: Actor, organization: string): Promise<Page<Department>> {
    const org = await this.orgs.find(actor, organization);
    return { value: [...seenBy(actor, org).departments] };
  }

  async get(actor: Actor, organization: string, id: string): Promise<Versioned<Department>> {
    const org = await this.orgs.find(actor, organization);
    return { value: pick(actor, org, id), etag: org.etag };
  }

  async create(actor: Actor, organization: string, body: unknown): Promise<Versioned<Department>> {
    const org = await this.orgs.find(actor, organization);
    requirePermission(actor, 'configure');
    const parsed = departmentSchema.safeParse(body);
    if (!parsed.success) throw invalid('department', zodProblems(parsed.error));
    const dept = parsed.data;
    requireWritable(actor, [{ organization, department: dept.id }], 'the department');
    if (org.departments.some((d) => d.id === dept.id)) {
      throw new AppError('CONFLICT', `department '${dept.id}' already exists in '${organization}'`);
    }
    const saved = await this.orgs.save(
      actor,
      'department.create',
      org,
      { ...org, departments: [...org.departments, dept] },
      undefined,
      { id: dept.id, before: null, after: dept },
    );
    return { value: dept, etag: saved.etag };
  }

  async update(
    actor: Actor,
    organization: string,
    id: string,
    patch: unknown,
    ifMatch?: string,
  ): Promise<Versioned<Department>> {
    const org = await this.orgs.find(actor, organization);
    const before = pick(actor, org, id);
    requirePermission(actor, 'configure');
    requireWritable(actor, [{ organization, department: id }], 'the department');
    const parsed = departmentSchema.safeParse(mergePatch(before, patch));
    if (!parsed.success) throw invalid('department', zodProblems(parsed.error));
    if (parsed.data.id !== id) throw invalid('department', ['id: cannot be changed']);
    const departments = org.departments.map((d) => (d.id === id ? parsed.data : d));
    const saved = await this.orgs.save(actor, 'department.update', org, { ...org, departments }, ifMatch, {
      id,
      before,
      after: parsed.data,
    });
    return { value: parsed.data, etag: saved.etag };
  }

  async delete(actor: Actor, organization: string, id: string, ifMatch?: string): Promise<void> {
    const org = await this.orgs.find(actor, organization);
    const before = pick(actor, org, id);
    requirePermission(actor, 'configure');
    requireWritable(actor, [{ organization, department: id }], 'the department');
    await this.orgs.references.requireUnused(organization, id);
    const departments = org.departments.filter((d) => d.id !== id);
    await this.orgs.save(actor, 'department.delete', org, { ...org, departments }, ifMatch, {
      id,
      before,
      after: null,
    });
  }
}

const visible = (actor: Actor, org: Stored<Organization>, id: string): boolean =>
  inScope(actor, [{ organization: org.id, department: id }]);

function pick(actor: Actor, org: Stored<Organization>, id: string): Department {
  const d = org.departments.find((x) => x.id === id);
  if (!d || !visible(actor, org, id)) throw hidden(`department '${id}'`);
  return d;
}
