import type { App } from '../app.js';
import { redrivePending } from './notification-redrive.js';
import { processNotification, type NotificationOutcome } from './notification-worker.js';

/**
 * What the queue and timer functions run, given the worker's App: every Intune endpoint's
 * notifications (settings-defined and stored), each through its own connection. Without a
 * notification queue configured they do nothing (the functions still exist: the Functions host registers every trigger).
 */
export async function runNotification(
  app: App,
  message: unknown,
  dequeueCount: number,
): Promise<NotificationOutcome | 'disabled'> {
  const i = app.intuneNotifications;
  if (!i) return 'disabled';
  return processNotification(
    message,
    { dequeueCount },
    {
      clientFor: i.clientFor,
      store: i.store,
      queue: i.queue,
      poison: i.poison,
      now: i.clock,
      log: i.logger,
      audit: app.audit,
      maxAttempts: app.settings.intune.notifications.maxAttempts,
    },
  );
}

export async function runRedrive(app: App): Promise<{ requeued: number; failed: number } | 'disabled'> {
  const i = app.intuneNotifications;
  if (!i) return 'disabled';
  const olderThan = new Date(
    i.clock().getTime() - app.settings.intune.notifications.redriveAfterMinutes * 60_000,
  );
  const pending = await redrivePending(
    { store: i.store, queue: i.queue, now: i.clock, log: i.logger },
    olderThan,
  );
  // Failure notifications the queue refused when they were written.
  const outbox = await i.outbox.drain(i.queue, i.logger);
  return { requeued: pending.requeued + outbox.sent, failed: pending.failed + outbox.failed };
}
