import { app, type InvocationContext, type Timer } from '@azure/functions';
import { getApp } from '../lib/app.js';

/**
 * Every 5 minutes: each Intune tenant whose revocation is on gets its revocation requests pulled
 * and answered. A tenant that failed fails the run (after every other tenant had its pull).
 */
export async function intuneRevocation(_timer: Timer, context: InvocationContext): Promise<void> {
  const r = await (await getApp()).intuneRevocation();
  context.log(`intune revocation: ${r.tenants.length} tenants, ${r.revoked} revoked, ${r.reported} reported`);
  const failed = r.tenants.flatMap((t) => ('error' in t ? [`${t.tenantId}: ${t.error}`] : []));
  if (failed.length > 0) throw new Error(`intune revocation failed for ${failed.join('; ')}`);
}

app.timer('intuneRevocation', { schedule: '0 */5 * * * *', handler: intuneRevocation });
