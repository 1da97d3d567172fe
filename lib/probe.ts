import type { App } from './app.js';
import { describeError } from './errors.js';

export interface ProbeResult {
  readonly ok: boolean;
  /** 'ok', or what went wrong. */
  readonly checks: Record<string, string>;
}

/** Cheap checks that each dependency answers; the CA key by its loaded certificate only. */
export async function probe(app: App): Promise<ProbeResult> {
  const checks: Record<string, string> = {
    settings: 'ok',
    caCertificate: app.ca.certificateDer.length > 0 ? 'ok' : 'missing',
  };
  try {
    await app.store.ping();
    checks.store = 'ok';
  } catch (e) {
    checks.store = describeError(e);
  }
  return { ok: Object.values(checks).every((v) => v === 'ok'), checks };
}
