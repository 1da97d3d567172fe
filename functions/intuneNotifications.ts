import { app, type InvocationContext } from '@azure/functions';
import { getApp } from '../lib/app.js';
import { runNotification } from '../lib/intune/functions.js';

/**
 * Sends Intune success/failure notifications from the queue. A thrown
 * error makes the host retry the message and, after host.json maxDequeueCount, poison it; the
 * re-drive timer then picks the record up again.
 */
export async function intuneNotifications(message: unknown, context: InvocationContext): Promise<void> {
  const dequeueCount = Number(context.triggerMetadata?.dequeueCount ?? 1);
  const outcome = await runNotification(await getApp(), message, dequeueCount);
  context.log(`intune notification: ${outcome}`);
}

app.storageQueue('intuneNotifications', {
  queueName: '%AppConfig__IntuneValidation__NotificationQueueName%',
  connection: 'AzureWebJobsStorage',
  handler: intuneNotifications,
});
