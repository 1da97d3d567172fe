import { AppError } from '../errors.js';
import type { AuditScopeEntry } from './store.js';

/**
 * Who reads the audit trail, as the management API's authentication sees a caller: an id and
 * the organizations/departments it may see (`all` for CA.Admin). Every management role may read
 * the audit trail of its scope (CA.Auditor exists for exactly that).
 */
export interface AuditViewer {
  readonly id: string;
  readonly scope: 'all' | readonly AuditScopeEntry[];
}

export interface AuditAccess {
  /** The caller of an `Authorization` header value; UNAUTHORIZED / FORBIDDEN otherwise. */
  authenticate(authorization: string | null | undefined): Promise<AuditViewer>;
}

/** No way to authenticate management calls is configured: every call is refused. */
export const closedAccess: AuditAccess = {
  authenticate: () =>
    Promise.reject(
      new AppError('UNAUTHORIZED', 'the management API has no authentication configured', {
        detail: { reason: 'not_configured' },
      }),
    ),
};

/** The store query's scope for a viewer (undefined: everything). */
export function scopeOf(viewer: AuditViewer): readonly AuditScopeEntry[] | undefined {
  return viewer.scope === 'all' ? undefined : viewer.scope;
}
