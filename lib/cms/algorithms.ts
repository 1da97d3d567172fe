import type { HashAlgorithm } from '../keys/types.js';

/** Algorithm identifiers by hash, in one place (RFC 5754 digests, RFC 8017 / RFC 5758 signatures). */
export const NODE_HASH: Readonly<Record<HashAlgorithm, string>> = {
  'SHA-1': 'sha1',
  'SHA-256': 'sha256',
  'SHA-384': 'sha384',
  'SHA-512': 'sha512',
};

export const DIGEST_OID: Readonly<Record<HashAlgorithm, string>> = {
  'SHA-1': '1.3.14.3.2.26',
  'SHA-256': '2.16.840.1.101.3.4.2.1',
  'SHA-384': '2.16.840.1.101.3.4.2.2',
  'SHA-512': '2.16.840.1.101.3.4.2.3',
};

export const DIGEST_BY_OID: Readonly<Record<string, HashAlgorithm>> = Object.fromEntries(
  Object.entries(DIGEST_OID).map(([hash, oid]) => [oid, hash as HashAlgorithm]),
);

/** sha*WithRSAEncryption (PKCS#1 v1.5). */
export const RSA_SIGNATURE_OID: Readonly<Record<HashAlgorithm, string>> = {
  'SHA-1': '1.2.840.113549.1.1.5',
  'SHA-256': '1.2.840.113549.1.1.11',
  'SHA-384': '1.2.840.113549.1.1.12',
  'SHA-512': '1.2.840.113549.1.1.13',
};

/** ecdsa-with-SHA*. */
export const ECDSA_SIGNATURE_OID: Readonly<Record<HashAlgorithm, string>> = {
  'SHA-1': '1.2.840.10045.4.1',
  'SHA-256': '1.2.840.10045.4.3.2',
  'SHA-384': '1.2.840.10045.4.3.3',
  'SHA-512': '1.2.840.10045.4.3.4',
};
