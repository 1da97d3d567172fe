import type { NextCaCertificate, NextCaRequest, NextCaStore } from '../ca/next.js';
import type { KeyVaultSettings } from '../config/keyvault.js';
import { initRootCa, readCaState } from './keyvault-bootstrap.js';
import type { VaultContext } from './keyvault-ca.js';

/** The Key Vault certificate object that holds the next CA: `<CertificateName>-next`. */
export const nextCaName = (certificateName: string): string => `${certificateName}-next`;

/**
 * The next CA in Key Vault: its own certificate object beside the current one, made the way
 * `npm run ca -- init` makes the first (a non-exportable key created by Key Vault, a root signed
 * through Key Vault `sign`, then merged). One GET reads it.
 */
export class KeyVaultNextCaStore implements NextCaStore {
  private readonly ctx: VaultContext;
  readonly location: string;

  constructor(
    ctx: VaultContext,
    private readonly settings: KeyVaultSettings,
  ) {
    this.ctx = { ...ctx, name: nextCaName(ctx.name) };
    this.location = `${ctx.url.replace(/\/$/, '')}/certificates/${this.ctx.name}`;
  }

  async read(): Promise<NextCaCertificate | undefined> {
    const st = await readCaState(this.ctx);
    return st.state === 'ready' ? { certificateDer: st.certificateDer, chainDer: [] } : undefined;
  }

  async createRoot(r: NextCaRequest): Promise<NextCaCertificate> {
    const s = { ...this.settings, subject: r.subject, daysExpiresIn: r.validityDays };
    const made = await initRootCa(this.ctx, s, r.now);
    return { certificateDer: made.certificateDer, chainDer: made.chainDer };
  }
}
