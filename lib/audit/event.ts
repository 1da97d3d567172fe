import { randomUUID } from 'node:crypto';
import { reasonEntry, type ReasonCheck, type ReasonCode } from './reasons.js';

/** What an event records. */
export type AuditKind = 'enrollment' | 'revocation' | 'management' | 'intune-notification' | 'key';

export type AuditOutcome =
  | 'issued'
  | 'renewed'
  | 'replayed'
  | 'pending'
  | 'refused'
  | 'failed'
  | 'revoked'
  | 'released'
  | 'changed'
  | 'loaded'
  | 'notified';

export const AUDIT_OUTCOMES: readonly AuditOutcome[] = [
  'issued',
  'renewed',
  'replayed',
  'pending',
  'refused',
  'failed',
  'revoked',
  'released',
  'changed',
  'loaded',
  'notified',
];

/** The partition of management events that belong to no endpoint. */
export const MANAGEMENT_PARTITION = '_management';

/** A value the failed check compared, e.g. `{ name: 'rsaBits', actual: 1024, required: '>= 2048' }`. */
export interface ComparedValue {
  readonly name: string;
  readonly actual?: string | number | boolean | undefined;
  readonly required?: string | number | boolean | undefined;
}

/** A changed field of a management change; secrets are recorded as `(changed)`, never their value. */
export interface FieldChange {
  readonly field: string;
  readonly before?: unknown;
  readonly after?: unknown;
}

/**
 * One audit event: append-only, one per decision or change. Never carries a secret: no
 * challenge, no key, no token. `message` is the specific sentence ("the CSR's RSA key has 1024
 * bits; endpoint 'lab-wifi' requires at least 2048"); `fix` is the catalogue's hint.
 */
export interface AuditEvent {
  readonly id: string;
  /** ISO 8601 time of the decision. */
  readonly time: string;
  /** Endpoint name, or `_management` for changes outside any endpoint (the store partition). */
  readonly partition: string;
  readonly kind: AuditKind;
  readonly endpoint?: string | undefined;
  readonly account?: string | undefined;
  readonly organization?: string | undefined;
  readonly department?: string | undefined;
  /** Device identity (CSR subject, renewal certificate) or administrator principal. */
  readonly actor?: string | undefined;
  /** PKCSReq, RenewalReq, CertPoll, api/csr, endpoint.update, … */
  readonly operation: string;
  readonly transactionId?: string | undefined;
  /** Subject DN of the request or certificate. */
  readonly subject?: string | undefined;
  /** Common name, for search by CN. */
  readonly cn?: string | undefined;
  readonly serialNumber?: string | undefined;
  /** Intune device id, when the request came through Intune. */
  readonly device?: string | undefined;
  readonly outcome: AuditOutcome;
  readonly reason: ReasonCode;
  readonly check: ReasonCheck;
  readonly message: string;
  readonly fix: string;
  readonly compared?: readonly ComparedValue[] | undefined;
  readonly changes?: readonly FieldChange[] | undefined;
  /** How a certificate was authorized (static, intune, account, api, renewal). */
  readonly authorization?: string | undefined;
  /** Serial of the certificate a renewal re-issued. */
  readonly renewalOf?: string | undefined;
}

/** What a caller supplies; id, time, partition, check and fix are filled in. */
export type AuditInput = Omit<AuditEvent, 'id' | 'time' | 'partition' | 'check' | 'fix' | 'message'> & {
  readonly message?: string | undefined;
  readonly time?: string | undefined;
};

export function toAuditEvent(input: AuditInput, now: Date, id: string = randomUUID()): AuditEvent {
  const e = reasonEntry(input.reason);
  return {
    ...input,
    id,
    time: input.time ?? now.toISOString(),
    partition: input.endpoint ?? MANAGEMENT_PARTITION,
    check: e.check,
    message: input.message ?? e.meaning,
    fix: e.fix,
    cn: input.cn ?? commonName(input.subject),
  };
}

/** The CN of an RFC 4514 string such as `CN=device-1,O=Contoso` (first CN wins). */
export function commonName(subject: string | undefined): string | undefined {
  if (subject === undefined) return undefined;
  const m = /(?:^|,)\s*CN=((?:\\.|[^,\\])*)/i.exec(subject);
  return m?.[1]?.replace(/\\(.)/g, '$1');
}
