import { app, type InvocationContext, type Timer } from '@azure/functions';
import { getApp } from '../lib/app.js';

/** Every minute: append audit events that waited in the outbox while the store refused them. */
export async function auditOutbox(_timer: Timer, context: InvocationContext): Promise<void> {
  const moved = await (await getApp()).audit.drainOutbox();
  if (moved > 0) context.log(`audit outbox: ${moved} event(s) stored`);
}

app.timer('auditOutbox', { schedule: '0 * * * * *', handler: auditOutbox });
