/**
 * Key capabilities. The CA key (and, later, per-endpoint RA keys) is only ever used through
 * these two interfaces: a local key file in the embedded default, Azure Key Vault in production.
 * Public key and certificate are loaded once per worker; no per-request key fetch.
 */
export type HashAlgorithm = 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512';

export interface Signer {
  /** 'RSA' keys sign RSASSA-PKCS1-v1_5; 'EC' keys sign ECDSA with a DER-encoded signature. */
  readonly keyType: 'RSA' | 'EC';
  /** SubjectPublicKeyInfo (DER) of the signing key. */
  readonly publicKeySpki: Uint8Array;
  /** Human-readable identity for logs, e.g. `local:.data/ca/ca.key` or `https://vault/keys/ca/v1`. */
  readonly id: string;
  /** Hash `data` with `hash` (locally) and sign the digest. */
  sign(data: Uint8Array, hash: HashAlgorithm): Promise<Uint8Array>;
}

export type KeyTransportScheme = 'RSA1_5' | 'RSA-OAEP' | 'RSA-OAEP-256';

export interface Decrypter {
  readonly publicKeySpki: Uint8Array;
  readonly id: string;
  /**
   * Unwrap a CMS content-encryption key.
   *
   * For RSA1_5 this MUST NOT reveal whether the padding was valid (Bleichenbacher): when the
   * padding is bad, or the result is not `expectedLength` bytes long, it returns
   * `expectedLength` random bytes instead ("implicit rejection", RFC 3218 §2.3.2), so the
   * request fails later, indistinguishably, at content decryption or parsing.
   * Transport failures (vault unreachable, 429 after retries) throw AppError
   * DEPENDENCY_UNAVAILABLE: they are not padding errors.
   */
  unwrapKey(wrapped: Uint8Array, scheme: KeyTransportScheme, expectedLength: number): Promise<Uint8Array>;
}

/** The CA: its certificate (DER) and the key capabilities behind it. */
export interface CaKeys {
  readonly certificateDer: Uint8Array;
  /** Further chain certificates above the CA (subordinate CA mode), DER, nearest first. */
  readonly chainDer: readonly Uint8Array[];
  readonly signer: Signer;
  readonly decrypter: Decrypter;
}
