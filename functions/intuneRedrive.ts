import { app, type InvocationContext, type Timer } from '@azure/functions';
import { getApp } from '../lib/app.js';
import { runRedrive } from '../lib/intune/functions.js';

/** Every 15 minutes: re-enqueue Intune notifications left `pending` (queue write failed, poisoned). */
export async function intuneRedrive(_timer: Timer, context: InvocationContext): Promise<void> {
  const r = await runRedrive(await getApp());
  context.log(
    `intune notification re-drive: ${typeof r === 'string' ? r : `${r.requeued} requeued, ${r.failed} failed`}`,
  );
}

app.timer('intuneRedrive', { schedule: '0 */15 * * * *', handler: intuneRedrive });
