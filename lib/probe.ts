import type { App } from './app.js';
import { describeError } from './errors.js';

export interface ProbeResult {
  readonly ok: boolean;
  /** Status words only ('ok', 'missing', 'unavailable'): the cause goes to the log. */
  readonly checks: Record<string, 'ok' | 'missing' | 'unavailable'>;
}

/**
 * Cheap checks that each dependency answers; the CA key by its loaded certificate only. The
 * probe is anonymous: it never returns error texts (they name accounts, vaults and hosts).
 */
export async function probe(app: App): Promise<ProbeResult> {
  const checks: Record<string, 'ok' | 'missing' | 'unavailable'> = {
    settings: 'ok',
    caCertificate: app.ca.certificateDer.length > 0 ? 'ok' : 'missing',
  };
  try {
    await app.store.ping();
    checks.store = 'ok';
  } catch (e) {
    checks.store = 'unavailable';
    app.logger.warn('probe: the certificate store does not answer', { error: describeError(e) });
  }
  return { ok: Object.values(checks).every((v) => v === 'ok'), checks };
}
