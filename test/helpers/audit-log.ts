import { toAuditEvent, type AuditEvent } from '../../lib/audit/event.js';
import type { AuditLog } from '../../lib/audit/sink.js';

/** An AuditLog that keeps every recorded event in order, as the sink would build it. */
export function recordingAudit(now: () => Date = () => new Date()): AuditLog & { events: AuditEvent[] } {
  const events: AuditEvent[] = [];
  return {
    events,
    record: (input) => {
      const e = toAuditEvent(input, now());
      events.push(e);
      return e;
    },
  };
}
