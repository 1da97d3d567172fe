import { authFailureError, type EntraTokenValidator } from '../auth/entra.js';
import { AppError } from '../errors.js';
import type { DocumentCollection } from '../store/documents.js';
import { sameSecret } from './admin-key.js';
import type { AdministratorDoc } from './administrators.js';
import { strongestRole, weakerRole, type Actor, type Role, type ScopeEntry } from './roles.js';

/**
 * Authentication of management API calls, and the caller's role and scope:
 *
 * - `Authorization: Bearer <admin key>` (local start only; `adminKey` is undefined in Azure):
 *   CA.Admin, compared in constant time.
 * - An Entra ID access token with an app role CA.Admin / CA.Operator / CA.Auditor (lib/auth/entra.ts).
 *   CA.Admin sees everything. Otherwise the scope is the union of the `admins` documents for the
 *   caller's object id and its group ids; a document's `role`, when set, can only lower the
 *   token's role, never raise it.
 */
export interface ManageAuthDeps {
  readonly adminKey: string | undefined;
  readonly tokens: EntraTokenValidator | undefined;
  readonly admins: DocumentCollection<AdministratorDoc>;
  readonly realm: string;
}

const BEARER = /^Bearer +(\S+) *$/i;

export class ManageAuth {
  constructor(private readonly d: ManageAuthDeps) {}

  async authenticate(authorization: string | null | undefined): Promise<Actor> {
    const presented = BEARER.exec((authorization ?? '').trim())?.[1];
    if (presented !== undefined && this.d.adminKey !== undefined && sameSecret(presented, this.d.adminKey)) {
      return { id: 'admin-key', role: 'CA.Admin', scope: 'all' };
    }
    if (!this.d.tokens) {
      throw new AppError('UNAUTHORIZED', 'a valid bearer credential is required', {
        detail: {
          reason: presented === undefined ? 'missing_token' : 'bad_credential',
          wwwAuthenticate: `Bearer realm="${this.d.realm}"`,
        },
      });
    }
    const r = await this.d.tokens.validate(authorization);
    if (!r.ok) throw authFailureError(r, this.d.realm);
    const tokenRole = strongestRole(r.principal.roles);
    if (tokenRole === undefined) {
      throw new AppError('FORBIDDEN', 'the caller has no management role', {
        detail: { reason: 'missing_role' },
      });
    }
    const id = `entra:${r.principal.oid}`;
    if (tokenRole === 'CA.Admin') return { id, role: tokenRole, scope: 'all' };
    const docs = await Promise.all(
      [r.principal.oid, ...r.principal.groups].map((pid) => this.d.admins.get(pid, pid)),
    );
    let role: Role = tokenRole;
    const scope: ScopeEntry[] = [];
    for (const doc of docs) {
      if (!doc) continue;
      if (doc.role !== undefined) role = weakerRole(role, doc.role);
      scope.push(...doc.scopes);
    }
    return { id, role, scope };
  }
}
