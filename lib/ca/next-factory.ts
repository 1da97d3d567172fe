import { join } from 'node:path';
import type { TokenCredential } from '@azure/identity';
import type { Settings } from '../config/index.js';
import type { CaKeys } from '../keys/types.js';
import type { Logger } from '../log.js';
import type { DocumentStore } from '../store/documents.js';
import { chooseActiveCa, readActiveCa, thumbprintOf } from './active.js';
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
    /** The issuing CA's certificate: once the next CA is active, it is no longer offered as the next. */
    readonly activeDer: () => Uint8Array;
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
  return new NextCa(store, {
    reloadMs: NEXT_CA_RELOAD_MS,
    clock: d.clock,
    log: d.logger,
    activeDer: d.activeDer,
  });
}

/** The next CA's keys (to issue with it once activated), or undefined while there is none. */
export async function loadNextCaKeys(
  settings: Settings,
  d: { readonly credential: () => Promise<TokenCredential>; readonly logger: Logger },
): Promise<CaKeys | undefined> {
  const kv = settings.keyVault;
  if (kv.url !== undefined) {
    const [{ loadKeyVaultCa, vaultContext }, { nextCaName }, { readCaState }] = await Promise.all([
      import('../keys/keyvault-ca.js'),
      import('../keys/keyvault-next-ca.js'),
      import('../keys/keyvault-bootstrap.js'),
    ]);
    // The next CA's chain is its own (NextChainPem), never the configured CA's.
    const s = { ...kv, certificateName: nextCaName(kv.certificateName), chainPem: kv.nextChainPem };
    const credential = await d.credential();
    const st = await readCaState(vaultContext(s, credential, undefined, { log: d.logger }));
    return st.state === 'ready' ? loadKeyVaultCa(s, credential, undefined, { log: d.logger }) : undefined;
  }
  const { readLocalCa } = await import('../keys/local-ca.js');
  return readLocalCa(join(settings.core.dataDir, 'ca', 'next'));
}

/** A next CA gets the CA settings' subject and validity unless its creator says otherwise. */
export function nextCaDefaults(settings: Settings): { subject: string; validityDays: number } {
  return settings.keyVault.url !== undefined
    ? { subject: settings.keyVault.subject, validityDays: settings.keyVault.daysExpiresIn }
    : { subject: settings.core.localCa.subject, validityDays: settings.core.localCa.validityDays };
}

/**
 * The issuing CA at start: the configured one, or the next CA once an administrator activated it
 * (then the configured one is the previous CA, still trusted for renewals). The next CA's keys
 * are loaded only when an activation is recorded.
 */
export async function resolveActiveCa(
  settings: Settings,
  configured: CaKeys,
  documents: DocumentStore,
  d: { readonly credential: () => Promise<TokenCredential>; readonly logger: Logger },
): Promise<{ active: CaKeys; previous: CaKeys | undefined }> {
  const record = await readActiveCa(documents);
  if (!record || record.thumbprintSha256 === thumbprintOf(configured.certificateDer))
    return { active: configured, previous: undefined };
  const next = await loadNextCaKeys(settings, d);
  const chosen = chooseActiveCa(configured, next, record);
  if (chosen.active === configured)
    d.logger.error(
      'the active CA recorded is neither the configured CA nor the next CA; issuing with the configured CA',
      {
        recorded: record.thumbprintSha256,
      },
    );
  return chosen;
}
