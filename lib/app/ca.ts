import type { TokenCredential } from '@azure/identity';
import { readActiveCa } from '../ca/active.js';
import { LiveCa, type CaSnapshot } from '../ca/holder.js';
import { CertificateIssuer } from '../ca/issue.js';
import { resolveActiveCa } from '../ca/next-factory.js';
import { revocationUrls, urlIdOf, type KnownCas } from '../ca/urls.js';
import type { Settings } from '../config/index.js';
import { loadOrCreateLocalCa } from '../keys/local-ca.js';
import type { CaKeys } from '../keys/types.js';
import type { Logger } from '../log.js';
import { caResponder } from '../ra/responder.js';
import type { DocumentStore } from '../store/documents.js';

/** The configured CA: its Key Vault key when a vault is configured, else the local key file. */
export async function loadCaKeys(
  settings: Settings,
  credential: () => Promise<TokenCredential>,
  logger: Logger,
): Promise<{ ca: CaKeys; created: boolean }> {
  const kv = settings.keyVault;
  if (kv.url !== undefined) {
    const { loadKeyVaultCa } = await import('../keys/keyvault-ca.js');
    return { ca: await loadKeyVaultCa(kv, await credential(), undefined, { log: logger }), created: false };
  }
  const core = settings.core;
  const { created, ...ca } = await loadOrCreateLocalCa({ dataDir: core.dataDir, ...core.localCa });
  return { ca, created };
}

/**
 * The CAs, picked up while running (lib/ca/holder.ts): each snapshot is built on one issuing
 * CA, with its issuer (the CDP and AIA URLs of that CA) and its CA-mode responder.
 */
export function liveCa(
  settings: Settings,
  start: KnownCas,
  o: {
    documents: DocumentStore;
    clock: () => Date;
    logger: Logger;
    credential: () => Promise<TokenCredential>;
    reloadMs: number;
  },
): LiveCa {
  const core = settings.core;
  const snapshotOf = (active: CaKeys, previous: CaKeys | undefined): CaSnapshot => {
    const known = { configured: start.configured, active, previous };
    const urls =
      core.baseUrl === undefined ? undefined : revocationUrls(core.baseUrl, urlIdOf(known, active));
    return {
      ...known,
      issuer: new CertificateIssuer(active, {
        clockSkewMinutes: core.clockSkewMinutes,
        revocationUrls: urls,
      }),
      responder: caResponder(active, previous),
    };
  };
  return new LiveCa(snapshotOf(start.active, start.previous), {
    reloadMs: o.reloadMs,
    clock: o.clock,
    recorded: async () => (await readActiveCa(o.documents))?.thumbprintSha256,
    resolve: () =>
      resolveActiveCa(settings, start.configured, o.documents, {
        credential: o.credential,
        logger: o.logger,
      }),
    snapshot: snapshotOf,
    log: o.logger,
  });
}
