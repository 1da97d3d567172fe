import type { CertificatePolicy } from '@azure/keyvault-certificates';
import { createCaCsr } from '../ca/csr-builder.js';
import { createRootCertificate } from '../ca/root.js';
import { chainAbove, chooseSubordinate } from '../ca/subordinate.js';
import type { KeyVaultSettings } from '../config/keyvault.js';
import { AppError } from '../errors.js';
import { callKeyVault } from './keyvault-call.js';
import { getCaCertificate, getKey, target, type VaultContext } from './keyvault-ca.js';
import { KeyVaultKeyHandle, KeyVaultSigner } from './keyvault.js';

/**
 * CA bootstrap in Key Vault (`npm run ca`). The CA lives in one Key Vault certificate object:
 * creating it with issuer "Unknown" makes Key Vault generate a non-exportable key and leave the
 * certificate pending; we then sign through Key Vault `sign` (a self-signed root, or a CSR for
 * an enterprise root) and merge the signed certificate ("Certificate creation methods": create
 * with a CSR, merge). Every worker loads that one object at start.
 */
export type CaState =
  | { readonly state: 'absent' }
  | {
      readonly state: 'pending';
      readonly mode: CaMode | undefined;
      readonly keyId: string | undefined;
      /** The subject the request was created with (the certificate policy's). */
      readonly subject: string | undefined;
    }
  | { readonly state: 'ready'; readonly certificateDer: Uint8Array; readonly keyId: string | undefined };

export type CaMode = 'root' | 'subordinate';
/** Tag on the certificate object recording which bootstrap mode created the pending request. */
export const MODE_TAG = 'scep-ca-mode';

export async function readCaState(ctx: VaultContext): Promise<CaState> {
  const cert = await getCaCertificate(ctx);
  if (cert === undefined) return { state: 'absent' };
  if (cert.cer === undefined) {
    const mode = cert.properties.tags?.[MODE_TAG];
    return {
      state: 'pending',
      mode: mode === 'root' || mode === 'subordinate' ? mode : undefined,
      keyId: cert.keyId,
      subject: cert.policy?.subject,
    };
  }
  return { state: 'ready', certificateDer: new Uint8Array(cert.cer), keyId: cert.keyId };
}

export interface BootstrapResult {
  /** False when the vault already had what was asked for: nothing was changed. */
  readonly changed: boolean;
  readonly certificateDer: Uint8Array;
  readonly chainDer: readonly Uint8Array[];
}

/** Create the key and a self-signed root signed through Key Vault; a no-op when the CA exists. */
export async function initRootCa(
  ctx: VaultContext,
  s: KeyVaultSettings,
  now?: Date,
): Promise<BootstrapResult> {
  let st = await readCaState(ctx);
  if (st.state === 'ready') return { changed: false, certificateDer: st.certificateDer, chainDer: [] };
  if (st.state === 'pending' && st.mode !== 'root') {
    throw new AppError(
      'CONFLICT',
      `Key Vault certificate "${ctx.name}" has a pending request for a parent CA: import its signed certificate`,
    );
  }
  if (st.state === 'absent') st = await createPending(ctx, s, 'root');
  const signer = await pendingSigner(ctx, st);
  const der = await createRootCertificate({
    signer,
    subject: s.subject,
    days: s.daysExpiresIn,
    ...(now ? { now } : {}),
  });
  await merge(ctx, [der]);
  return { changed: true, certificateDer: der, chainDer: [] };
}

/** Create the key (unless a subordinate request is already pending) and a PKCS#10 for it. */
export async function subordinateCsr(
  ctx: VaultContext,
  s: KeyVaultSettings,
): Promise<{ csrDer: Uint8Array; created: boolean; subject: string }> {
  let st = await readCaState(ctx);
  if (st.state === 'ready')
    throw new AppError(
      'CONFLICT',
      `Key Vault certificate "${ctx.name}" already holds a CA certificate; nothing changed`,
    );
  if (st.state === 'pending' && st.mode === 'root') {
    throw new AppError(
      'CONFLICT',
      `Key Vault certificate "${ctx.name}" is a pending self-signed root: finish it with \`init\``,
    );
  }
  const created = st.state === 'absent';
  if (st.state === 'absent') st = await createPending(ctx, s, 'subordinate');
  const signer = await pendingSigner(ctx, st);
  const subject = (st.state === 'pending' ? st.subject : undefined) ?? s.subject;
  return { csrDer: await createCaCsr({ signer, subject }), created, subject };
}

/**
 * Merge the enterprise-signed CA certificate. `certs` may hold it and its chain in any order:
 * the CA certificate is the one for the pending key; the chain is ordered issuer by issuer.
 */
export async function importSubordinate(
  ctx: VaultContext,
  certs: readonly Uint8Array[],
  now: Date = new Date(),
): Promise<BootstrapResult> {
  const st = await readCaState(ctx);
  if (st.state === 'ready') {
    const chainDer = chainAbove(st.certificateDer, certs);
    if (chainDer) return { changed: false, certificateDer: st.certificateDer, chainDer };
    throw new AppError(
      'CONFLICT',
      `Key Vault certificate "${ctx.name}" already holds a different CA certificate; nothing changed`,
    );
  }
  if (st.state === 'absent')
    throw new AppError(
      'CONFLICT',
      `no pending request "${ctx.name}" in ${ctx.url}: create the request first`,
    );
  if (st.mode === 'root')
    throw new AppError(
      'CONFLICT',
      `Key Vault certificate "${ctx.name}" is a pending self-signed root, not a request for a parent CA`,
    );
  const signer = await pendingSigner(ctx, st);
  const sub = chooseSubordinate(certs, signer.publicKeySpki, now);
  await merge(ctx, [sub.certificateDer, ...sub.chainDer]);
  return { changed: true, ...sub };
}

async function createPending(ctx: VaultContext, s: KeyVaultSettings, mode: CaMode): Promise<CaState> {
  const policy: CertificatePolicy = {
    issuerName: 'Unknown',
    subject: s.subject,
    keyType: s.keyType,
    keySize: s.keySize,
    exportable: false,
    reuseKey: false,
    // Key usage here shapes the key's key_ops (and Key Vault's own CSR, which is not used):
    // sign for certificates and CertRep; decrypt and unwrapKey for SCEP envelopes.
    keyUsage: ['digitalSignature', 'keyEncipherment', 'dataEncipherment', 'keyCertSign', 'cRLSign'],
    contentType: 'application/x-pem-file',
  };
  await callKeyVault(
    target(ctx, `certificates/${ctx.name}`, 'createCertificate'),
    ctx.policy,
    async (abortSignal) => {
      await ctx.certificates.beginCreateCertificate(ctx.name, policy, {
        tags: { [MODE_TAG]: mode },
        abortSignal,
      });
    },
  );
  return readCaState(ctx);
}

async function pendingSigner(ctx: VaultContext, st: CaState): Promise<KeyVaultSigner> {
  const keyId = st.state === 'absent' ? undefined : st.keyId;
  const key = await getKey(ctx, keyId ?? `${ctx.url.replace(/\/$/, '')}/keys/${ctx.name}`);
  return new KeyVaultSigner(new KeyVaultKeyHandle(key, ctx.credential, ctx.clientOptions, ctx.policy));
}

async function merge(ctx: VaultContext, x5c: Uint8Array[]): Promise<void> {
  await callKeyVault(target(ctx, `certificates/${ctx.name}`, 'mergeCertificate'), ctx.policy, (abortSignal) =>
    ctx.certificates.mergeCertificate(ctx.name, x5c, { abortSignal }),
  );
}
