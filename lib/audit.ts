import type { Logger } from './log.js';

/**
 * Enrollment decisions (DESIGN decision 8): one event per decision, so an operator can answer
 * "why did this device not get a certificate" from the logs alone. `reason` is a stable,
 * machine-readable code; `detail` is for humans. Never secrets (no challenge values).
 */
export interface AuditEvent {
  readonly endpoint: string;
  readonly operation: string;
  readonly transactionId?: string | undefined;
  /** Who asked: CSR subject, token principal, or renewal certificate serial. */
  readonly requester?: string | undefined;
  readonly outcome: 'issued' | 'replayed' | 'refused' | 'failed' | 'pending';
  readonly reason?: string | undefined;
  readonly detail?: string | undefined;
  readonly serialNumber?: string | undefined;
  readonly authorization?: string | undefined;
  /** Serial of the certificate a renewal re-issued. */
  readonly renewalOf?: string | undefined;
}

export interface AuditLog {
  record(event: AuditEvent): void;
}

export function loggerAudit(logger: Logger): AuditLog {
  return {
    record: (e) => {
      const fields = { audit: true, ...e };
      if (e.outcome === 'issued' || e.outcome === 'replayed') logger.info(`enrollment ${e.outcome}`, fields);
      else logger.warn(`enrollment ${e.outcome}: ${e.reason ?? 'unknown'}`, fields);
    },
  };
}
