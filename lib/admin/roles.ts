import { AppError } from '../errors.js';

/**
 * Who may do what in the management API. In Azure the role is an Entra app role in the
 * token's `roles` claim; locally the admin key is CA.Admin.
 *
 * | role        | read (scope) | operate: accounts, challenges, revocation | configure: endpoints, organizations, administrators |
 * |-------------|--------------|-------------------------------------------|-----------------------------------------------------|
 * | CA.Admin    | everything   | everything                                | yes                                                 |
 * | CA.Operator | in scope     | in scope                                  | no                                                  |
 * | CA.Auditor  | in scope     | no                                        | no                                                  |
 */
export const ROLES = ['CA.Admin', 'CA.Operator', 'CA.Auditor'] as const;
export type Role = (typeof ROLES)[number];
export type Permission = 'read' | 'operate' | 'configure';

const GRANTS: Readonly<Record<Role, readonly Permission[]>> = {
  'CA.Admin': ['read', 'operate', 'configure'],
  'CA.Operator': ['read', 'operate'],
  'CA.Auditor': ['read'],
};

/** An organization, or one department of it. */
export interface ScopeEntry {
  readonly organization: string;
  readonly department?: string | undefined;
}

/** The authenticated caller of the management API. */
export interface Actor {
  /** `admin-key` locally, `entra:<object id>` in Azure: recorded with every change. */
  readonly id: string;
  readonly role: Role;
  /** `all` for CA.Admin; otherwise the organizations/departments the caller administers. */
  readonly scope: 'all' | readonly ScopeEntry[];
}

export const isRole = (s: unknown): s is Role =>
  typeof s === 'string' && (ROLES as readonly string[]).includes(s);

/** The most powerful of `roles` (ROLES is ordered strongest first), or undefined. */
export function strongestRole(roles: readonly string[]): Role | undefined {
  return ROLES.find((r) => roles.includes(r));
}

/** The weaker of two roles. */
export function weakerRole(a: Role, b: Role): Role {
  return ROLES.indexOf(a) >= ROLES.indexOf(b) ? a : b;
}

export function can(actor: Actor, permission: Permission): boolean {
  return GRANTS[actor.role].includes(permission);
}

/**
 * Throw FORBIDDEN unless the actor's role grants `permission`. Call it only after the target
 * was found in the actor's scope: what is out of scope answers 404 first (scope hides).
 */
export function requirePermission(actor: Actor, permission: Permission): void {
  if (!can(actor, permission)) {
    throw new AppError(
      'FORBIDDEN',
      `the role ${actor.role} may not ${permission === 'read' ? 'read' : 'change'} this`,
      {
        detail: { reason: 'permission', role: actor.role, permission },
      },
    );
  }
}
