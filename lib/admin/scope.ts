import { AppError } from '../errors.js';
import type { Actor, ScopeEntry } from './roles.js';

/**
 * Delegation: endpoints are delegated to organizations or departments, accounts and
 * certificates belong to one. An administrator scoped to an organization sees everything of
 * it, including its departments; one scoped to a department sees that department and what is
 * delegated to the whole organization. What is out of scope answers 404, never 403, so that
 * its existence does not leak.
 *
 * Writes are stricter than reads: a department's administrator may create, change or move only
 * what belongs to its own department, never something organization-wide (that would reach the
 * other departments); an organization's administrator anything of its organization.
 */
export interface Owner {
  readonly organization?: string | undefined;
  readonly department?: string | undefined;
}

/** Does one scope entry reach one owner? */
function reaches(entry: ScopeEntry, owner: Owner): boolean {
  if (owner.organization === undefined || owner.organization !== entry.organization) return false;
  return (
    entry.department === undefined || owner.department === undefined || owner.department === entry.department
  );
}

/** Does one scope entry let its holder write what `owner` owns, or give something to `owner`? */
function governs(entry: ScopeEntry, owner: Owner): boolean {
  if (owner.organization === undefined || owner.organization !== entry.organization) return false;
  return entry.department === undefined || owner.department === entry.department;
}

/** True when the actor may see something owned by any of `owners` (unowned: CA.Admin only). */
export function inScope(actor: Actor, owners: readonly Owner[]): boolean {
  if (actor.scope === 'all') return true;
  const scope = actor.scope;
  return owners.some((o) => scope.some((e) => reaches(e, o)));
}

export const hidden = (what: string): AppError => new AppError('NOT_FOUND', `${what} not found`);

/** Throw NOT_FOUND (as if absent) unless the actor may see it. */
export function requireInScope(actor: Actor, owners: readonly Owner[], what: string): void {
  if (!inScope(actor, owners)) throw hidden(what);
}

/**
 * Throw FORBIDDEN unless the actor may write what every one of `owners` owns: the owners of a
 * record before a change, and those it has after (a record owned by several, e.g. an account
 * of an endpoint delegated to two departments, is changed for all of them). Unowned: CA.Admin.
 * Call it after the target was found in scope (404) and the role allowed the change (403).
 */
export function requireWritable(actor: Actor, owners: readonly Owner[], what: string): void {
  if (actor.scope === 'all') return;
  const scope = actor.scope;
  if (owners.length > 0 && owners.every((o) => scope.some((e) => governs(e, o)))) return;
  throw new AppError(
    'FORBIDDEN',
    `${what} must belong to an organization or department you administer ` +
      '(an administrator of a department: that department, not the whole organization)',
    { detail: { reason: 'owner_out_of_scope' } },
  );
}

/** The single organization a scoped actor is limited to, to narrow a store query; else undefined. */
export function soleOrganization(actor: Actor): string | undefined {
  if (actor.scope === 'all') return undefined;
  const orgs = new Set(actor.scope.map((e) => e.organization));
  return orgs.size === 1 ? [...orgs][0] : undefined;
}
