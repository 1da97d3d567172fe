import { AppError } from '../errors.js';
import type { Endpoint } from '../model/endpoint.js';
import { allPages, type DocumentCollection } from '../store/documents.js';
import type { AdministratorDoc } from './administrators.js';

/**
 * What still points at an organization or department: endpoints delegated to it and
 * administrators scoped to it. Deleting it first would leave them delegated to nothing, so the
 * delete is refused (409) naming what to change. The management collections are small; a scan
 * of each is enough.
 */
export class OwnerReferences {
  constructor(
    private readonly endpoints: DocumentCollection<Endpoint>,
    private readonly admins: DocumentCollection<AdministratorDoc>,
  ) {}

  async requireUnused(organization: string, department?: string): Promise<void> {
    const hits = (list: readonly { organization: string; department?: string | undefined }[]): boolean =>
      list.some(
        (d) => d.organization === organization && (department === undefined || d.department === department),
      );
    const users = [
      ...(await scan(this.endpoints)).filter((e) => hits(e.delegatedTo)).map((e) => `endpoint ${e.name}`),
      ...(await scan(this.admins)).filter((a) => hits(a.scopes)).map((a) => `administrator ${a.id}`),
    ];
    if (users.length > 0) {
      const what = department === undefined ? organization : `${organization}/${department}`;
      throw new AppError('CONFLICT', `'${what}' is still used by ${users.slice(0, 10).join(', ')}`, {
        detail: { references: users.length },
      });
    }
  }
}

async function scan<T extends { id: string }>(c: DocumentCollection<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const items of allPages(c)) out.push(...items);
  return out;
}
