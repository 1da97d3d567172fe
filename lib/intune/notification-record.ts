import { AppError } from '../errors.js';
import type { CertificateRecord, CertificateStore, NotificationState } from '../store/types.js';

/** The notification bookkeeping kept on an Intune certificate record (CertificateRecord.notification). */

/** The `notification` of a new Intune certificate record: pending, nothing sent yet. */
export function pendingNotification(
  certificateRequest: string,
  now: Date,
): NonNullable<CertificateRecord['notification']> {
  return { state: 'pending', attempts: 0, updatedAt: now.toISOString(), certificateRequest };
}

/**
 * Set the record's notification bookkeeping with optimistic concurrency: re-read and retry on
 * an etag mismatch. Resolves the stored record, or undefined when the record is gone, another
 * writer already settled the notification (`sent`/`failed`) and `force` is not set, or, with
 * `from`, another writer already moved it out of that state.
 */
export async function markNotification(
  store: CertificateStore,
  record: CertificateRecord,
  next: { state: NotificationState; attempts: number; lastError?: string | undefined; updatedAt: string },
  force = false,
  from?: NotificationState,
): Promise<CertificateRecord | undefined> {
  let current: CertificateRecord | undefined = record;
  for (let i = 0; i < 5 && current; i++) {
    const settled = current.notification?.state === 'sent' || current.notification?.state === 'failed';
    if (i > 0 && settled && !force) return undefined;
    if (from !== undefined && current.notification?.state !== from) return undefined;
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
