import type { Logger } from '../log.js';
import type { Actor } from './roles.js';

/**
 * Every change made through the management API, as one structured log line (`change: true`)
 * until the audit trail has a store of its own: who, what, on which target, before and after.
 * Secrets never reach it: fields that hold challenges, passwords, hashes or keys are replaced
 * by "[redacted]" at any depth.
 */
export interface ChangeLog {
  recordChange(actor: Actor, action: string, target: string, before: unknown, after: unknown): void;
}

const SECRET_FIELD = /challenge|password|secret|hash|salt|key$|token/i;

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

export function loggerChangeLog(logger: Logger): ChangeLog {
  return {
    recordChange: (actor, action, target, before, after) => {
      logger.info(`manage ${action} ${target}`, {
        change: true,
        actor: actor.id,
        role: actor.role,
        action,
        target,
        before: redact(before) ?? null,
        after: redact(after) ?? null,
      });
    },
  };
}
