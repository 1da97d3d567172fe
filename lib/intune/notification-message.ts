import type { CertificateRecord } from '../store/types.js';
import { truncateDescription } from './client.js';

/**
 * The Intune notification queue message (enqueued by notifications.ts, consumed by
 * notification-worker.ts).
 *
 * The queue message is JSON (base64 on the wire, see lib/queue/storage.ts):
 *   {"v":1,"kind":"success","serial":"…","transactionId":"…","certificateRequest":"…","attempt":0}
 *   {"v":1,"kind":"failure","transactionId":"…","certificateRequest":"…","hResult":-2147467259,
 *    "description":"…≤255…","attempt":0}
 * Both carry `"endpoint":"<name>"`, the SCEP endpoint whose Intune connection (tenant, app
 * registration) validated the request and must hear of the outcome; messages written before
 * endpoints were data have none and go to the settings-defined connection.
 * For a success the store record is the source of truth (thumbprint, serial, notAfter, issuer,
 * endpoint); a failure has no record (no certificate was issued), the message carries everything.
 */
export type NotificationMessage =
  | {
      readonly v: 1;
      readonly kind: 'success';
      readonly endpoint?: string | undefined;
      readonly serial: string;
      readonly transactionId: string;
      readonly certificateRequest: string;
      /** Delivery attempts made before this message was written. */
      readonly attempt: number;
      readonly lastError?: string | undefined;
    }
  | {
      readonly v: 1;
      readonly kind: 'failure';
      readonly endpoint?: string | undefined;
      readonly transactionId: string;
      readonly certificateRequest: string;
      readonly hResult: number;
      readonly description: string;
      readonly attempt: number;
      readonly lastError?: string | undefined;
    };

/** Accepts what a queue trigger hands over: the JSON-parsed object, or the JSON text. */
export function parseNotificationMessage(input: unknown): NotificationMessage | undefined {
  let v: unknown = input;
  if (typeof input === 'string') {
    try {
      v = JSON.parse(input);
    } catch {
      return undefined;
    }
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  const str = (k: string): string | undefined => (typeof o[k] === 'string' && o[k] !== '' ? o[k] : undefined);
  const attempt =
    typeof o.attempt === 'number' && Number.isInteger(o.attempt) && o.attempt >= 0 ? o.attempt : 0;
  const transactionId = str('transactionId');
  const certificateRequest = str('certificateRequest');
  const lastError = str('lastError');
  const endpoint = str('endpoint');
  if (o.v !== 1 || transactionId === undefined || certificateRequest === undefined) return undefined;
  if (o.kind === 'success') {
    const serial = str('serial');
    if (serial === undefined) return undefined;
    return { v: 1, kind: 'success', endpoint, serial, transactionId, certificateRequest, attempt, lastError };
  }
  if (o.kind === 'failure' && typeof o.hResult === 'number' && Number.isInteger(o.hResult)) {
    const description = truncateDescription(str('description') ?? '');
    return {
      v: 1,
      kind: 'failure',
      endpoint,
      transactionId,
      certificateRequest,
      hResult: o.hResult,
      description,
      attempt,
      lastError,
    };
  }
  return undefined;
}

export function encodeNotificationMessage(m: NotificationMessage): string {
  return JSON.stringify(m);
}
export function successMessageFor(record: CertificateRecord, attempt = 0): NotificationMessage | undefined {
  const certificateRequest = record.notification?.certificateRequest;
  if (record.transactionId === undefined || certificateRequest === undefined) return undefined;
  return {
    v: 1,
    kind: 'success',
    endpoint: record.endpoint,
    serial: record.serialNumber,
    transactionId: record.transactionId,
    certificateRequest,
    attempt,
  };
}
