import { AppError, describeError } from '../errors.js';
import type { MessageQueue } from '../queue/types.js';
import type { CertificateRecord, CertificateStore, NotificationState } from '../store/types.js';
import { type IntuneClient, truncateDescription } from './client.js';
import type { FailureOutbox } from './failure-outbox.js';
import { intuneReason, type Logger, silentLogger } from './types.js';

/**
 * Intune success/failure notifications, the enrollment side: issue → record the
 * certificate with notification state pending → enqueue → the queue-triggered worker calls
 * Intune and marks the record. The worker side is notification-worker.ts.
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

/** The `notification` of a new Intune certificate record: pending, nothing sent yet. */
export function pendingNotification(
  certificateRequest: string,
  now: Date,
): NonNullable<CertificateRecord['notification']> {
  return { state: 'pending', attempts: 0, updatedAt: now.toISOString(), certificateRequest };
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

export interface EnqueueDeps {
  readonly queue: MessageQueue;
  readonly log?: Logger;
  /** Where a failure notification goes when the queue cannot be written (drained by the timer). */
  readonly outbox?: Pick<FailureOutbox, 'put'>;
}

/**
 * After an Intune certificate was recorded (notification pending): enqueue its success
 * notification. Never throws: if the queue cannot be written the record stays pending and the
 * re-drive timer (redrivePending) enqueues it later, so the certificate can be returned.
 */
export async function notifyAfterIssue(
  deps: EnqueueDeps,
  record: CertificateRecord,
): Promise<{ queued: boolean }> {
  const log = deps.log ?? silentLogger;
  const message = successMessageFor(record);
  if (!message) {
    log.error(
      'intune success notification not queued: the record has no transactionId or certificateRequest',
      {
        serial: record.serialNumber,
      },
    );
    return { queued: false };
  }
  try {
    await deps.queue.send(encodeNotificationMessage(message));
    return { queued: true };
  } catch (e) {
    log.warn('intune success notification not queued; the re-drive timer will retry', {
      serial: record.serialNumber,
      transactionId: record.transactionId,
      error: describeError(e),
    });
    return { queued: false };
  }
}

/**
 * Queued mode, once the certificate has been delivered (its CertRep exists): a record still
 * `undelivered` becomes `pending` and its success notification is queued. A record is created
 * `undelivered`, so a certificate whose reply could not be produced is never announced (not by
 * this path, not by the re-drive timer, which only picks `pending`); the client's retry replays
 * it and lands here. Throws when the record cannot be marked: the certificate is then withheld,
 * and the retry tries again.
 */
export async function announceDelivered(
  deps: EnqueueDeps & { readonly store: CertificateStore; readonly now: () => Date },
  record: CertificateRecord,
): Promise<void> {
  const n = record.notification;
  if (n?.state !== 'undelivered') return;
  const marked = await markNotification(deps.store, record, {
    state: 'pending',
    attempts: n.attempts,
    updatedAt: deps.now().toISOString(),
  });
  if (marked?.notification?.state === 'pending') await notifyAfterIssue(deps, marked);
}

/**
 * Issuance failed after a successful validateRequest: queue a failureNotification. Only for
 * the CA's own failures; "never send failureNotification for a failed validateRequest or a
 * failed successNotification" (spec §7). When the queue cannot be written the message goes to
 * the outbox, which the re-drive timer queues later. Never throws.
 */
export async function notifyFailure(
  deps: EnqueueDeps,
  f: {
    /** The endpoint whose Intune connection validated the request. */
    readonly endpoint: string;
    readonly transactionId: string;
    readonly certificateRequest: string;
    readonly hResult: number;
    readonly description: string;
  },
): Promise<{ queued: boolean }> {
  const message: NotificationMessage = {
    v: 1,
    kind: 'failure',
    endpoint: f.endpoint,
    transactionId: f.transactionId,
    certificateRequest: f.certificateRequest,
    hResult: f.hResult | 0,
    description: truncateDescription(f.description),
    attempt: 0,
  };
  const log = deps.log ?? silentLogger;
  try {
    await deps.queue.send(encodeNotificationMessage(message));
    return { queued: true };
  } catch (e) {
    try {
      if (!deps.outbox) throw e;
      await deps.outbox.put(message);
      log.warn('intune failure notification not queued; kept in the outbox for the re-drive timer', {
        transactionId: f.transactionId,
        error: describeError(e),
      });
    } catch (e2) {
      log.error('intune failure notification could not be queued nor kept, and is lost', {
        transactionId: f.transactionId,
        error: describeError(e2),
      });
    }
    return { queued: false };
  }
}

/**
 * Set the record's notification bookkeeping with optimistic concurrency: re-read and retry on
 * an etag mismatch. Resolves the stored record, or undefined when the record is gone or another
 * writer already settled the notification (`sent`/`failed`) and `force` is not set.
 */
export async function markNotification(
  store: CertificateStore,
  record: CertificateRecord,
  next: { state: NotificationState; attempts: number; lastError?: string | undefined; updatedAt: string },
  force = false,
): Promise<CertificateRecord | undefined> {
  let current: CertificateRecord | undefined = record;
  for (let i = 0; i < 5 && current; i++) {
    const settled = current.notification?.state === 'sent' || current.notification?.state === 'failed';
    if (i > 0 && settled && !force) return undefined;
    const notification = { ...current.notification, ...next, lastError: next.lastError?.slice(0, 500) };
    const updated = await store.update(current, { notification });
    if (updated) return updated;
    current = await store.getBySerial(record.serialNumber);
  }
  if (!current) return undefined;
  throw new AppError(
    'DEPENDENCY_UNAVAILABLE',
    'the certificate record kept changing while its notification state was set',
    {
      detail: { serial: record.serialNumber },
    },
  );
}

export interface ConfirmDeps {
  readonly client: Pick<IntuneClient, 'successNotification'>;
  readonly store: CertificateStore;
  readonly now?: () => Date;
  readonly log?: Logger;
}

export type ConfirmResult =
  | { readonly deliver: true; readonly record: CertificateRecord }
  | { readonly deliver: false; readonly reason: string; readonly detail: string };

/**
 * AppConfig__IntuneValidation__WaitForSuccessNotificationResponse=true: send the success
 * notification on the enrollment request and return the certificate only if Intune accepted it
 * (spec §0: "any exception from … successNotification => MUST NOT issue/deliver the cert";
 * test matrix row 24). Trade-off: the device waits for one more Intune round trip (plus a token
 * request when the cache is cold), and an Intune outage fails enrollments that the queued mode
 * would complete. Call it again on an idempotent retry of the same transaction: a record whose
 * notification was already sent is delivered without a second call.
 */
export async function confirmSuccessBeforeDelivery(
  deps: ConfirmDeps,
  record: CertificateRecord,
): Promise<ConfirmResult> {
  const log = deps.log ?? silentLogger;
  const now = deps.now ?? (() => new Date());
  const n = record.notification;
  if (n?.state === 'sent') return { deliver: true, record };
  if (record.transactionId === undefined || n?.certificateRequest === undefined) {
    return {
      deliver: false,
      reason: 'intune:invalid-argument',
      detail: 'the record has no transactionId or certificateRequest',
    };
  }
  const attempts = n.attempts + 1;
  const r = await deps.client.successNotification({
    transactionId: record.transactionId,
    certificateRequest: n.certificateRequest,
    certificateThumbprint: record.thumbprintSha1,
    certificateSerialNumber: record.serialNumber,
    certificateExpiration: record.notAfter,
    issuingCertificateAuthority: record.issuer,
  });
  if (r.ok) {
    try {
      const marked = await markNotification(deps.store, record, {
        state: 'sent',
        attempts,
        updatedAt: now().toISOString(),
      });
      return { deliver: true, record: marked ?? record };
    } catch (e) {
      // Intune has it; a stale "pending" only means the re-drive timer may send it once more.
      log.warn('intune success notification sent but the record could not be marked', {
        serial: record.serialNumber,
        error: describeError(e),
      });
      return { deliver: true, record };
    }
  }
  const reason = intuneReason(r);
  const detail = [r.message, r.errorDescription].filter((s) => s !== undefined && s !== '').join(': ');
  log.warn(`intune successNotification failed (${reason}); certificate withheld`, {
    serial: record.serialNumber,
    transactionId: record.transactionId,
    activityId: r.activityId,
  });
  // "failed", not "pending": the re-drive timer must not announce a certificate the device never got.
  await markNotification(
    deps.store,
    record,
    {
      state: 'failed',
      attempts,
      lastError: `certificate withheld: ${reason} ${detail}`,
      updatedAt: now().toISOString(),
    },
    true,
  ).catch((e: unknown) => {
    log.warn('could not mark the withheld certificate', {
      serial: record.serialNumber,
      error: describeError(e),
    });
  });
  return { deliver: false, reason, detail };
}
