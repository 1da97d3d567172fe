import { AppError } from '../errors.js';
import type { Actor, ScopeEntry } from './roles.js';

/**
 * Delegation: endpoints are delegated to organizations or departments, accounts and
 * certificates belong to one. An administrator scoped to an organization sees everything of
 * it, including its departments; one scoped to a department sees that department and what is
 * delegated to the whole organization. What is out of scope answers 404, never 403, so that
 * its existence does not leak.
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

/** The single organization a scoped actor is limited to, to narrow a store query; else undefined. */
export function soleOrganization(actor: Actor): string | undefined {
  if (actor.scope === 'all') return undefined;
  const orgs = new Set(actor.scope.map((e) => e.organization));
  return orgs.size === 1 ? [...orgs][0] : undefined;
}
