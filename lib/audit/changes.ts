import type { AuditInput, FieldChange } from './event.js';

/** Field names whose values are secrets: recorded as changed, never with a value. */
const SECRET_FIELD = /challenge|password|secret|hash|salt|key$|token/i;

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** The top-level fields that differ between `before` and `after`; secret fields without values. */
export function fieldChanges(before: unknown, after: unknown): FieldChange[] {
  const b = asRecord(before);
  const a = asRecord(after);
  const names = [...new Set([...Object.keys(b), ...Object.keys(a)])].filter(
    (n) => n !== 'etag' && !same(b[n], a[n]),
  );
  return names
    .sort()
    .map((field) =>
      SECRET_FIELD.test(field)
        ? { field, before: field in b ? '(set)' : undefined, after: field in a ? '(changed)' : undefined }
        : { field, before: b[field], after: a[field] },
    );
}

/**
 * A management change as an audit event: who (`actor.id`), what (`action` on `target`), and the
 * fields that changed. The organization is the changed object's (after the change, or before a
 * delete), so an auditor of that organization sees it.
 */
export function changeEvent(
  actor: { readonly id: string },
  action: string,
  target: string,
  before: unknown,
  after: unknown,
): AuditInput {
  const owner = asRecord(after ?? before);
  const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
  const changes = fieldChanges(before, after);
  return {
    kind: 'management',
    operation: action,
    actor: actor.id,
    outcome: 'changed',
    reason: 'management-change',
    organization: text(owner.organization),
    department: text(owner.department),
    message: `${actor.id}: ${action} ${target}${changes.length > 0 ? ` (${changes.map((c) => c.field).join(', ')})` : ''}`,
    changes,
  };
}

function asRecord(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}
