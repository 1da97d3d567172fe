import { AppError } from '../errors.js';
import type { Account } from '../model/account.js';
import type { Endpoint } from '../model/endpoint.js';
import { allPages, type DocFilter, type DocumentCollection } from '../store/documents.js';
import type { AdministratorDoc } from './administrators.js';

/**
 * What still points at an organization or department: endpoints delegated to it, administrators
 * scoped to it, and accounts and one-time challenges it owns. Deleting it first would leave them
 * delegated to (or owned by) nothing, so the delete is refused (409) naming what to change. The
 * endpoint and administrator collections are small; a scan of each is enough. Accounts are read
 * by their organization only, across the endpoints' partitions.
 *
 * Certificates do not block a delete: a certificate keeps the owner it was issued under, as a
 * historical fact of the audit trail, and is not moved or reissued when its owner goes.
 */
export class OwnerReferences {
  constructor(
    private readonly endpoints: DocumentCollection<Endpoint>,
    private readonly admins: DocumentCollection<AdministratorDoc>,
    private readonly accounts: DocumentCollection<Account>,
  ) {}

  async requireUnused(organization: string, department?: string): Promise<void> {
    const hits = (list: readonly { organization: string; department?: string | undefined }[]): boolean =>
      list.some(
        (d) => d.organization === organization && (department === undefined || d.department === department),
      );
    const users = [
      ...(await scan(this.endpoints)).filter((e) => hits(e.delegatedTo)).map((e) => `endpoint ${e.name}`),
      ...(await scan(this.admins)).filter((a) => hits(a.scopes)).map((a) => `administrator ${a.id}`),
      ...(await scan(this.accounts, { organization }))
        .filter((a) => hits([{ organization, department: a.department }]))
        .map((a) => `account ${a.id} of endpoint ${a.endpoint}`),
    ];
    if (users.length > 0) {
      const what = department === undefined ? organization : `${organization}/${department}`;
      throw new AppError('CONFLICT', `'${what}' is still used by ${users.slice(0, 10).join(', ')}`, {
        detail: { references: users.length },
      });
    }
  }
}

async function scan<T extends { id: string }>(
  c: DocumentCollection<T>,
  filter: DocFilter<T> = {},
): Promise<T[]> {
  const out: T[] = [];
  for await (const items of allPages(c, filter)) out.push(...items);
  return out;
}
