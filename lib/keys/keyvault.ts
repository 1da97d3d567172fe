import {
  createHash,
  createPublicKey,
  randomBytes,
  verify as cryptoVerify,
  type KeyObject,
} from 'node:crypto';
import type { TokenCredential } from '@azure/identity';
import { CryptographyClient, type KeyVaultKey, type SignatureAlgorithm } from '@azure/keyvault-keys';
import { AppError } from '../errors.js';
import { ecdsaRawToDer } from './ecdsa.js';
import {
  callKeyVault,
  DEFAULT_CALL_POLICY,
  KeyVaultCounter,
  KeyVaultError,
  type CallPolicy,
} from './keyvault-call.js';
import type { Decrypter, HashAlgorithm, KeyTransportScheme, Signer } from './types.js';
import { NODE_HASH } from '../cms/algorithms.js';
import { rejectionSecret, substituteKey } from './pkcs1.js';

/** Transport options shared by every Key Vault client we build (tests: a local http vault). */
export interface VaultClientOptions {
  readonly allowInsecureConnection?: boolean;
  readonly disableChallengeResourceVerification?: boolean;
}

/**
 * Default transport options for a vault URL: none for Azure (https); for a vault on this machine
 * over plain http (the local test vault) the SDK must be told to allow http and to accept a
 * challenge whose resource (vault.azure.net) is not the host.
 */
export function vaultClientOptionsFor(url: string): VaultClientOptions {
  const u = new URL(url);
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname);
  return u.protocol === 'http:' && loopback
    ? { allowInsecureConnection: true, disableChallengeResourceVerification: true }
    : {};
}

/** SDK client options: ours, with the SDK's own retries off (callKeyVault retries, bounded). */
export function sdkClientOptions(
  o: VaultClientOptions = {},
): VaultClientOptions & { retryOptions: { maxRetries: number } } {
  return { ...o, retryOptions: { maxRetries: 0 } };
}

export type KeyVaultCallOptions = Partial<CallPolicy>;

// RSASSA-PKCS1-v1_5 (RFC 7518 §3.3). Key Vault has no SHA-1 variant ("RS1"): see KeyVaultSigner.
const RSA_ALG: Partial<Record<HashAlgorithm, SignatureAlgorithm>> = {
  'SHA-256': 'RS256',
  'SHA-384': 'RS384',
  'SHA-512': 'RS512',
};
// ECDSA (RFC 7518 §3.4): Key Vault pairs each curve with one hash.
const EC_CURVE: Record<string, { hash: HashAlgorithm; alg: SignatureAlgorithm }> = {
  'P-256': { hash: 'SHA-256', alg: 'ES256' },
  'P-384': { hash: 'SHA-384', alg: 'ES384' },
  'P-521': { hash: 'SHA-512', alg: 'ES512' },
};

/**
 * One Key Vault key, opened once per worker from a key object fetched once (KeyClient.getKey):
 * the CryptographyClient built from that object never GETs the key again, and the public key
 * (SPKI) is derived here from the JWK's n/e (or x/y). Signer and Decrypter share it.
 */
export class KeyVaultKeyHandle {
  readonly id: string;
  readonly vault: string;
  /** `keys/<name>/<version>`, for logs. */
  readonly label: string;
  readonly keyType: 'RSA' | 'EC';
  readonly curve: string | undefined;
  readonly keyOps: readonly string[];
  readonly publicKey: KeyObject;
  readonly publicKeySpki: Uint8Array;
  readonly client: CryptographyClient;
  readonly policy: CallPolicy;

  constructor(
    key: KeyVaultKey,
    credential: TokenCredential,
    clientOptions?: VaultClientOptions,
    options?: KeyVaultCallOptions,
  ) {
    const jwk = key.key;
    if (key.id === undefined || jwk === undefined)
      throw configError(`Key Vault key ${key.name} has no key material`);
    this.id = key.id;
    this.vault = key.properties.vaultUrl;
    this.label = `keys/${key.name}/${key.properties.version ?? ''}`;
    if (key.properties.enabled === false) throw configError(`Key Vault key ${this.label} is disabled`);
    const kty = jwk.kty ?? '';
    if (kty === 'RSA' || kty === 'RSA-HSM') {
      if (jwk.n === undefined || jwk.e === undefined)
        throw configError(`Key Vault key ${this.label} has no modulus`);
      this.keyType = 'RSA';
      this.curve = undefined;
      this.publicKey = createPublicKey({
        key: { kty: 'RSA', n: b64u(jwk.n), e: b64u(jwk.e) },
        format: 'jwk',
      });
    } else if ((kty === 'EC' || kty === 'EC-HSM') && jwk.crv !== undefined && jwk.crv in EC_CURVE) {
      if (jwk.x === undefined || jwk.y === undefined)
        throw configError(`Key Vault key ${this.label} has no point`);
      this.keyType = 'EC';
      this.curve = jwk.crv;
      this.publicKey = createPublicKey({
        key: { kty: 'EC', crv: jwk.crv, x: b64u(jwk.x), y: b64u(jwk.y) },
        format: 'jwk',
      });
    } else {
      throw configError(`Key Vault key ${this.label} has unsupported type ${kty} ${jwk.crv ?? ''}`.trim());
    }
    this.keyOps = key.keyOperations ?? jwk.keyOps ?? [];
    this.publicKeySpki = new Uint8Array(this.publicKey.export({ format: 'der', type: 'spki' }));
    this.client = new CryptographyClient(key, credential, sdkClientOptions(clientOptions));
    this.policy = { ...DEFAULT_CALL_POLICY, counter: new KeyVaultCounter(), ...options };
  }

  /** Key Vault refuses an operation missing from `key_ops`; refuse it here, at start, instead. */
  requireOp(op: string, why: string): void {
    if (!this.keyOps.includes(op)) {
      throw configError(
        `Key Vault key ${this.label} does not allow "${op}" (key_ops: ${this.keyOps.join(', ') || 'none'}), needed to ${why}`,
      );
    }
  }
}

/**
 * Signer on Key Vault `sign`: the digest is computed here and only the digest is sent.
 *
 * SHA-1: Key Vault has no RSASSA-PKCS1-v1_5 + SHA-1 algorithm ("Supported algorithms" lists
 * RS256/RS384/RS512, PS*, ES*), so this signer refuses SHA-1 with AppError INTERNAL and lists
 * what it can do in `supportedHashes`; the SCEP core signs CertRep with SHA-256 unless told
 * otherwise. Emulating SHA-1 with the raw "RSNULL" algorithm over a locally built DigestInfo
 * would rely on service behaviour Microsoft does not document, for a hash no client needs.
 *
 * Every signature is verified locally with the public key before it is returned, so a wrong key
 * version or a corrupted answer never leaves the CA.
 */
export class KeyVaultSigner implements Signer {
  readonly keyType: 'RSA' | 'EC';
  readonly publicKeySpki: Uint8Array;
  readonly id: string;
  readonly supportedHashes: readonly HashAlgorithm[];

  constructor(private readonly h: KeyVaultKeyHandle) {
    h.requireOp('sign', 'sign certificates and SCEP responses');
    this.keyType = h.keyType;
    this.publicKeySpki = h.publicKeySpki;
    this.id = h.id;
    const ec = h.curve === undefined ? undefined : EC_CURVE[h.curve];
    this.supportedHashes = ec ? [ec.hash] : ['SHA-256', 'SHA-384', 'SHA-512'];
  }

  get counter(): KeyVaultCounter {
    return this.h.policy.counter;
  }

  async sign(data: Uint8Array, hash: HashAlgorithm): Promise<Uint8Array> {
    const alg = this.algorithm(hash);
    const digest = createHash(NODE_HASH[hash]).update(data).digest();
    const target = { vault: this.h.vault, object: this.h.label, operation: 'sign' };
    const res = await callKeyVault(target, this.h.policy, (abortSignal) =>
      this.h.client.sign(alg, digest, { abortSignal }),
    );
    // A plain copy: the SDK may hand back a Buffer view into a shared pool, whose `.buffer`
    // (used by the ASN.1 encoders) is not the signature.
    const sig = this.keyType === 'EC' ? ecdsaRawToDer(res.result) : Uint8Array.from(res.result);
    const ok = cryptoVerify(NODE_HASH[hash], data, { key: this.h.publicKey, dsaEncoding: 'der' }, sig);
    if (!ok) {
      this.h.policy.log.error('Key Vault signature does not verify with the key', target);
      throw new AppError(
        'DEPENDENCY_UNAVAILABLE',
        `Key Vault sign on ${this.h.label} returned a signature that does not verify`,
      );
    }
    return sig;
  }

  private algorithm(hash: HashAlgorithm): SignatureAlgorithm {
    const alg =
      this.h.curve === undefined
        ? RSA_ALG[hash]
        : EC_CURVE[this.h.curve]?.hash === hash
          ? EC_CURVE[this.h.curve]?.alg
          : undefined;
    if (alg === undefined) {
      throw new AppError(
        'INTERNAL',
        `Key Vault key ${this.h.label} cannot sign with ${hash}; use ${this.supportedHashes.join(' or ')}`,
      );
    }
    return alg;
  }
}

/**
 * Decrypter on Key Vault `decrypt` (or `unwrapKey` when the key allows only that) with RSA1_5,
 * RSA-OAEP or RSA-OAEP-256.
 *
 * Implicit rejection (lib/keys/types.ts, RFC 3218 §2.3.2): Key Vault answers a ciphertext it
 * cannot decrypt (bad padding, wrong length, value out of range) with 400 BadParameter (e.g.
 * "Error occurred while decoding OAEP padding."). Then, or when the key that comes back has the
 * wrong length, the answer is a substitute key computed before the call — for every scheme —
 * from the ciphertext under a secret of this worker and key (substituteKey; the private key
 * never leaves the vault, so the secret cannot be derived from it without a vault operation),
 * so the request fails later, at content decryption, as if the padding had been valid, and the
 * same message fails the same way again.
 * Every other failure throws AppError DEPENDENCY_UNAVAILABLE, and that is safe to tell apart:
 * 401/403 depend on the app's identity and role and on the key's state, 404 on its existence,
 * 429 on the vault's request rate, 5xx and timeouts on the service and the network — none on
 * the ciphertext's value, so they give a client no oracle about the padding. (An operation
 * outside `key_ops` is 403 KeyOperationForbidden, and `key_ops` is checked at start anyway.)
 */
export class KeyVaultDecrypter implements Decrypter {
  readonly publicKeySpki: Uint8Array;
  readonly id: string;
  readonly operation: 'decrypt' | 'unwrapKey';

  constructor(private readonly h: KeyVaultKeyHandle) {
    if (h.keyType !== 'RSA')
      throw configError(`Key Vault key ${h.label} is not RSA; SCEP key transport needs an RSA key`);
    this.operation = h.keyOps.includes('decrypt') ? 'decrypt' : 'unwrapKey';
    h.requireOp(this.operation, 'decrypt SCEP requests');
    this.publicKeySpki = h.publicKeySpki;
    this.id = h.id;
    this.rejection = rejectionSecret(Buffer.concat([randomBytes(32), Buffer.from(h.id)]));
  }

  private readonly rejection: Uint8Array;

  get counter(): KeyVaultCounter {
    return this.h.policy.counter;
  }

  async unwrapKey(
    wrapped: Uint8Array,
    scheme: KeyTransportScheme,
    expectedLength: number,
  ): Promise<Uint8Array> {
    const fallback = substituteKey(this.rejection, wrapped, expectedLength);
    const target = {
      vault: this.h.vault,
      object: this.h.label,
      operation: this.operation,
      expectedStatuses: [400],
    };
    let plain: Uint8Array;
    try {
      const res = await callKeyVault(target, this.h.policy, (abortSignal) =>
        this.operation === 'decrypt'
          ? this.h.client.decrypt({ algorithm: scheme, ciphertext: wrapped }, { abortSignal })
          : this.h.client.unwrapKey(scheme, wrapped, { abortSignal }),
      );
      plain = Uint8Array.from(res.result);
    } catch (e) {
      if (e instanceof KeyVaultError && e.status === 400) return fallback;
      throw e;
    }
    return plain.length === expectedLength ? plain : fallback;
  }
}

function b64u(b: Uint8Array): string {
  return Buffer.from(b).toString('base64url');
}

function configError(message: string): AppError {
  return new AppError('CONFIG_INVALID', message);
}
