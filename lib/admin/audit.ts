import type { AuditLog } from '../audit/sink.js';
import { changeEvent, type ChangePlace } from '../audit/changes.js';
import type { Actor } from './roles.js';

/**
 * Every change made through the management API, as one audit event (kind `management`): who,
 * what, on which target, and the fields that changed with before and after. Secrets never reach
 * it (lib/audit/changes.ts). `place` names the endpoint and the owning organization/department,
 * so that the organization's administrators see the change in `api/manage/audit`.
 */
export interface ChangeLog {
  recordChange(
    actor: Actor,
    action: string,
    target: string,
    before: unknown,
    after: unknown,
    place?: ChangePlace,
  ): void;
}

export function auditChangeLog(audit: AuditLog): ChangeLog {
  return {
    recordChange: (actor, action, target, before, after, place) => {
      audit.record(changeEvent(actor, action, target, before ?? null, after ?? null, place));
    },
  };
}
