import { app, type WarmupContext } from '@azure/functions';
import { getApp } from '../lib/app.js';

/**
 * Runs when the Functions host adds an instance (on the plans that have warmup triggers; the
 * local host runs it at start). The instance makes what its first requests would otherwise wait
 * for: the OCSP responder's key and certificate (a key generation and one CA signature), so the
 * first relying party is answered at once. Everything it prepares is also made on first use.
 */
export async function warmup(_warmup: WarmupContext): Promise<void> {
  // The responder certificate it makes is a key lifecycle audit event (ocsp-responder.issued).
  await (await getApp()).revocation.prepare();
}

app.warmup('warmup', { handler: warmup });
