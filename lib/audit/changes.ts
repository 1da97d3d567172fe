import type { AuditInput, FieldChange } from './event.js';

/** Field names whose values are secrets: recorded as changed, never with a value. */
const SECRET_FIELD = /challenge|password|secret|hash|salt|key$|token/i;

/** `value` with every secret field, at any depth, replaced by "[redacted]". */
export function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([k, v]) => [
      k,
      SECRET_FIELD.test(k) ? '[redacted]' : redact(v),
    ]),
  );
}

/** Bookkeeping the store keeps on every write: not a change an auditor needs to read. */
const BOOKKEEPING = new Set(['etag', 'updatedAt']);

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * The top-level fields that differ between `before` and `after`. A secret field is recorded as
 * `(set)` → `(changed)`, never with a value; secrets nested in other fields are "[redacted]".
 */
export function fieldChanges(before: unknown, after: unknown): FieldChange[] {
  const b = asRecord(before);
  const a = asRecord(after);
  const names = [...new Set([...Object.keys(b), ...Object.keys(a)])].filter(
    (n) => !BOOKKEEPING.has(n) && !same(b[n], a[n]),
  );
  return names
    .sort()
    .map((field) =>
      SECRET_FIELD.test(field)
        ? { field, before: field in b ? '(set)' : undefined, after: field in a ? '(changed)' : undefined }
        : { field, before: redact(b[field]), after: redact(a[field]) },
    );
}

/** Where a change belongs: the endpoint it concerns and the organization/department that owns it. */
export interface ChangePlace {
  readonly endpoint?: string | undefined;
  readonly organization?: string | undefined;
  readonly department?: string | undefined;
}

/**
 * A management change as an audit event: who (`actor.id`), what (`action` on `target`), and the
 * fields that changed. The organization is `place`'s, else the changed object's (after the
 * change, or before a delete), so an auditor of that organization sees it. A change of an
 * endpoint is stored in that endpoint's partition, others in `_management`.
 */
export function changeEvent(
  actor: { readonly id: string },
  action: string,
  target: string,
  before: unknown,
  after: unknown,
  place: ChangePlace = {},
): AuditInput {
  const owner = asRecord(after ?? before);
  const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
  const organization = place.organization ?? text(owner.organization);
  const changes = fieldChanges(before, after);
  return {
    kind: 'management',
    operation: action,
    actor: actor.id,
    outcome: 'changed',
    reason: 'management-change',
    endpoint: place.endpoint,
    organization,
    department: place.organization !== undefined ? place.department : text(owner.department),
    message: `${actor.id}: ${action} ${target}${changes.length > 0 ? ` (${changes.map((c) => c.field).join(', ')})` : ''}`,
    changes,
  };
}

function asRecord(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}
