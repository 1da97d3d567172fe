import type {
  NextCaCertificate,
  NextCaInstalled,
  NextCaRequest,
  NextCaStore,
  PendingNextCa,
} from '../ca/next.js';
import type { KeyVaultSettings } from '../config/keyvault.js';
import { AppError } from '../errors.js';
import { parseChain, pemBlock } from '../x509/pem.js';
import { importSubordinate, initRootCa, readCaState, subordinateCsr } from './keyvault-bootstrap.js';
import type { VaultContext } from './keyvault-ca.js';

/** The Key Vault certificate object that holds the next CA: `<CertificateName>-next`. */
export const nextCaName = (certificateName: string): string => `${certificateName}-next`;

/** The app setting that carries the chain above a next CA signed by an external parent. */
export const NEXT_CHAIN_SETTING = 'AppConfig__KeyVaultConfig__RootCertificateConfig__NextChainPem';

/**
 * The next CA in Key Vault: its own certificate object beside the current one, made the way
 * `npm run ca` makes the first: a non-exportable key created by Key Vault (issuer "Unknown"),
 * then a self-signed root signed through Key Vault `sign`, or a PKCS#10 for an external parent
 * and later the merge of what it signed. One GET reads it. Key Vault keeps a merged chain only
 * in the certificate's secret, which the app does not read: the chain comes from the
 * NextChainPem setting, as the first CA's comes from ChainPem.
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
    if (st.state !== 'ready') return undefined;
    return {
      certificateDer: st.certificateDer,
      chainDer: parseChain(this.settings.nextChainPem, st.certificateDer),
    };
  }

  async createRoot(r: NextCaRequest): Promise<NextCaCertificate> {
    const s = { ...this.settings, subject: r.subject, daysExpiresIn: r.validityDays };
    const made = await initRootCa(this.ctx, s, r.now);
    return { certificateDer: made.certificateDer, chainDer: made.chainDer };
  }

  async pending(): Promise<PendingNextCa | undefined> {
    const st = await readCaState(this.ctx);
    return st.state === 'pending' && st.mode === 'subordinate'
      ? { subject: st.subject ?? this.settings.subject }
      : undefined;
  }

  async createRequest(r: { readonly subject: string }): Promise<Uint8Array> {
    const made = await subordinateCsr(this.ctx, { ...this.settings, subject: r.subject });
    if (!made.created) throw new AppError('CONFLICT', 'a next CA request is already pending');
    return made.csrDer;
  }

  async request(): Promise<Uint8Array> {
    if (!(await this.pending())) throw new AppError('NOT_FOUND', 'no next CA request is pending');
    return (await subordinateCsr(this.ctx, this.settings)).csrDer;
  }

  async install(certs: readonly Uint8Array[], now: Date): Promise<NextCaInstalled> {
    const r = await importSubordinate(this.ctx, certs, now);
    const configured = parseChain(this.settings.nextChainPem, r.certificateDer);
    const same =
      configured.length === r.chainDer.length &&
      configured.every((c, i) => Buffer.from(c).equals(Buffer.from(r.chainDer[i] ?? [])));
    return {
      certificateDer: r.certificateDer,
      chainDer: configured,
      importedChainDer: r.chainDer,
      ...(same
        ? {}
        : {
            chainSetting: {
              name: NEXT_CHAIN_SETTING,
              value: r.chainDer.map((c) => pemBlock('CERTIFICATE', c, '')).join(''),
            },
          }),
    };
  }
}
