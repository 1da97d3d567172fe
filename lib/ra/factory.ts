import { join } from 'node:path';
import type { AuditLog } from '../audit/sink.js';
import type { TokenCredential } from '@azure/identity';
import type { CaSnapshot } from '../ca/holder.js';
import type { Settings } from '../config/index.js';
import { AppError, describeError } from '../errors.js';
import type { Logger } from '../log.js';
import type { ScepEndpoint } from '../scep/endpoint.js';
import type { DocumentStore } from '../store/documents.js';
import { RaCertificates } from './certificates.js';
import { LocalRaKeyStore, MemoryRaKeyStore, type RaKeyStore } from './keys.js';

/** RA keys where the CA key is: Key Vault when configured, else the data folder (or memory). */
export async function createRaCertificates(
  settings: Settings,
  d: {
    readonly documents: DocumentStore;
    /** The issuing CA and the one before it (RA certificates of that one are replaced at once). */
    readonly cas: { get(): Promise<CaSnapshot> };
    readonly clock: () => Date;
    readonly logger: Logger;
    readonly audit: AuditLog;
    readonly credential: () => Promise<TokenCredential>;
  },
): Promise<RaCertificates> {
  const core = settings.core;
  let keyStore: RaKeyStore;
  if (settings.keyVault.url !== undefined) {
    const { vaultContext } = await import('../keys/keyvault-ca.js');
    const { KeyVaultRaKeyStore } = await import('./keys-keyvault.js');
    const ctx = vaultContext(settings.keyVault, await d.credential(), undefined, { log: d.logger });
    keyStore = new KeyVaultRaKeyStore(ctx, core.ra.keyType);
  } else if (core.localStore === 'memory') {
    keyStore = new MemoryRaKeyStore();
  } else {
    keyStore = new LocalRaKeyStore(join(core.dataDir, 'ra'));
  }
  return new RaCertificates({
    documents: d.documents,
    cas: d.cas,
    keyStore,
    settings: {
      validityDays: core.ra.validityDays,
      renewBeforeDays: core.ra.renewBeforeDays,
      reloadMs: 60_000,
    },
    clock: d.clock,
    audit: d.audit,
  });
}

/**
 * Endpoints as the SCEP code receives them, each with who answers it: an RA endpoint its RA
 * responder, any other the issuing CA's, both from one snapshot of the CAs per request.
 */
export function withResponders(
  endpoints: { resolve(name: string): Promise<ScepEndpoint | undefined> },
  ra: RaCertificates,
  cas: { get(): Promise<Pick<CaSnapshot, 'responder'>> },
): { resolve(name: string): Promise<ScepEndpoint | undefined> } {
  return {
    resolve: async (name) => {
      const e = await endpoints.resolve(name);
      if (!e || e.unavailable !== undefined) return e;
      if (!e.raEnabled) return { ...e, responder: (await cas.get()).responder };
      try {
        return { ...e, responder: await ra.responder(e.name) };
      } catch (err) {
        if (err instanceof AppError && err.code === 'DEPENDENCY_UNAVAILABLE') throw err;
        throw new AppError('DEPENDENCY_UNAVAILABLE', `the RA key of endpoint "${e.name}" is unavailable`, {
          cause: err,
          detail: { error: describeError(err) },
        });
      }
    },
  };
}
