import { AppError } from '../errors.js';
import { instant } from '../model/instant.js';
import { canonicalSerial } from '../revocation/reasons.js';
import { AUDIT_OUTCOMES, type AuditOutcome } from './event.js';
import { parseReason } from './reasons.js';
import type { AuditPageRequest, AuditQuery } from './store.js';

export type AuditFormat = 'page' | 'csv' | 'json';

export interface AuditRequest {
  readonly query: AuditQuery;
  readonly page: AuditPageRequest;
  readonly format: AuditFormat;
}

const bad = (message: string): AppError => new AppError('BAD_REQUEST', message);

/**
 * `GET /api/manage/audit` query parameters: from, to (ISO 8601), endpoint, account,
 * organization, outcome, reason, transactionId, subject (CN or DN), serial, actor, device;
 * top + continuationToken for paging; format=csv|json for a download of every match.
 */
export function parseAuditRequest(params: URLSearchParams): AuditRequest {
  const get = (name: string): string | undefined => {
    const v = params.get(name)?.trim();
    if (v !== undefined && v.length > 512) throw bad(`${name} is too long`);
    return v === '' ? undefined : v;
  };
  const outcome = get('outcome');
  if (outcome !== undefined && !AUDIT_OUTCOMES.includes(outcome as AuditOutcome)) {
    throw bad(`outcome must be one of ${AUDIT_OUTCOMES.join(', ')}`);
  }
  const reasonText = get('reason');
  const reason = parseReason(reasonText);
  if (reasonText !== undefined && reason === undefined) {
    throw bad(`reason "${reasonText.slice(0, 64)}" is not a code of the reason catalogue`);
  }
  const format = get('format') ?? 'page';
  if (format !== 'page' && format !== 'csv' && format !== 'json') throw bad('format must be csv or json');
  const top = get('top');
  if (top !== undefined && !/^\d{1,4}$/.test(top)) throw bad('top must be a number from 1 to 1000');
  return {
    query: {
      from: time(get('from'), 'from'),
      to: time(get('to'), 'to'),
      endpoint: get('endpoint'),
      account: get('account'),
      organization: get('organization'),
      outcome: outcome as AuditOutcome | undefined,
      reason,
      transactionId: get('transactionId'),
      subject: get('subject'),
      serialNumber: serial(get('serial')),
      actor: get('actor'),
      device: get('device'),
    },
    page: { top: top === undefined ? undefined : Number(top), continuationToken: get('continuationToken') },
    format,
  };
}

function time(v: string | undefined, name: string): string | undefined {
  if (v === undefined) return undefined;
  const t = instant.safeParse(v);
  if (!t.success)
    throw bad(`${name} must be an ISO 8601 date or time, e.g. 2026-12-01 or 2026-12-01T00:00:00Z`);
  return t.data;
}

/**
 * Serials as the store keeps them, read the way revocation reads them (colons, `0x`, upper case,
 * leading zeros stripped to an odd number of digits).
 */
export function serial(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  const hex = canonicalSerial(v);
  if (hex === undefined) throw bad('serial must be hexadecimal');
  return hex;
}
