import { app, type InvocationContext, type WarmupContext } from '@azure/functions';
import { getApp } from '../lib/app.js';

/**
 * Runs when the Functions host adds an instance (on the plans that have warmup triggers; the
 * local host runs it at start). The instance makes what its first requests would otherwise wait
 * for: the OCSP responder's key and certificate (a key generation and one CA signature), so the
 * first relying party is answered at once. Everything it prepares is also made on first use.
 */
export async function warmup(_warmup: WarmupContext, context: InvocationContext): Promise<void> {
  await (await getApp()).revocation.prepare();
  context.log('warmup: OCSP responder ready');
}

app.warmup('warmup', { handler: warmup });
