import { join } from 'node:path';
import type { TokenCredential } from '@azure/identity';
import type { Settings } from '../config/index.js';
import type { Logger } from '../log.js';
import { NextCa, type NextCaStore } from './next.js';

/** How long a worker reuses what it read about the next CA (GetCACaps asks on every enrollment). */
export const NEXT_CA_RELOAD_MS = 60_000;

/** The next CA where the current CA key is: Key Vault when configured, else the data folder. */
export async function createNextCa(
  settings: Settings,
  d: {
    readonly credential: () => Promise<TokenCredential>;
    readonly clock: () => Date;
    readonly logger: Logger;
  },
): Promise<NextCa> {
  let store: NextCaStore;
  if (settings.keyVault.url !== undefined) {
    const { vaultContext } = await import('../keys/keyvault-ca.js');
    const { KeyVaultNextCaStore } = await import('../keys/keyvault-next-ca.js');
    const ctx = vaultContext(settings.keyVault, await d.credential(), undefined, { log: d.logger });
    store = new KeyVaultNextCaStore(ctx, settings.keyVault);
  } else {
    const { LocalNextCaStore } = await import('./next-local.js');
    store = new LocalNextCaStore(join(settings.core.dataDir, 'ca'), settings.core.localCa.keySize);
  }
  return new NextCa(store, { reloadMs: NEXT_CA_RELOAD_MS, clock: d.clock, log: d.logger });
}

/** A next CA gets the CA settings' subject and validity unless its creator says otherwise. */
export function nextCaDefaults(settings: Settings): { subject: string; validityDays: number } {
  return settings.keyVault.url !== undefined
    ? { subject: settings.keyVault.subject, validityDays: settings.keyVault.daysExpiresIn }
    : { subject: settings.core.localCa.subject, validityDays: settings.core.localCa.validityDays };
}
