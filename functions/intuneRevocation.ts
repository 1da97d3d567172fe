import { app, type InvocationContext, type Timer } from '@azure/functions';
import { getApp } from '../lib/app.js';

/** Every 5 minutes: revoke what Intune asks to revoke and report the outcomes (when enabled). */
export async function intuneRevocation(_timer: Timer, context: InvocationContext): Promise<void> {
  const pull = (await getApp()).intuneRevocation;
  if (!pull) return;
  const r = await pull();
  context.log(`intune revocation pull: ${r.revoked} revoked, ${r.reported} reported`);
}

app.timer('intuneRevocation', { schedule: '0 */5 * * * *', handler: intuneRevocation });
