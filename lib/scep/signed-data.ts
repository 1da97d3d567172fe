import { createHash } from 'node:crypto';
import type { HashAlgorithm, Signer } from '../keys/types.js';
import { issuerAndSerial } from './envelope.js';
import { OID } from './types.js';
import { asView } from '../x509/as-view.js';
import type { CertView } from '../x509/cert-view.js';
import type { Certificate } from '@peculiar/asn1-x509';
import { DIGEST_OID, ECDSA_SIGNATURE_OID as ECDSA_OID, NODE_HASH } from '../cms/algorithms.js';
import {
  algorithm,
  algorithmWithNull,
  explicit,
  integer,
  objectIdentifier,
  octetString,
  seq,
  set,
  setOf,
} from '../cms/der.js';

export interface SignedDataParams {
  /** The id-data eContent, or none (a CertRep FAILURE/PENDING). */
  readonly content: Uint8Array | undefined;
  /** Signed attributes besides contentType and messageDigest (each one encoded Attribute). */
  readonly attributes: readonly Uint8Array[];
  readonly signerCertificate: Certificate | CertView;
  /** Whether the signer certificate goes into `certificates` (first). */
  readonly includeSigner: boolean;
  /** Further certificates to carry, DER. */
  readonly certificates: readonly Uint8Array[];
  readonly signer: Signer;
  readonly hash: HashAlgorithm;
}

export const attribute = (type: string, value: Uint8Array): Uint8Array =>
  seq(objectIdentifier(type), set(value));

/**
 * A CMS SignedData (RFC 5652 §5) over id-data content with one SignerInfo and signed attributes
 * (contentType and messageDigest added here). SignerInfo.signatureAlgorithm is rsaEncryption, not
 * sha256WithRSAEncryption: strongSwan 5.9.x refuses the latter in a CertRep ("only RSA digest
 * encryption supported"), and RFC 5652 §10.1.2 allows either.
 */
export async function buildSignedData(p: SignedDataParams): Promise<Uint8Array> {
  const digest = createHash(NODE_HASH[p.hash])
    .update(p.content ?? new Uint8Array(0))
    .digest();
  const attrs = [
    attribute(OID.contentType, objectIdentifier(OID.data)),
    ...p.attributes,
    attribute(OID.messageDigest, octetString(new Uint8Array(digest))),
  ];
  // DER SET OF, sorted; the SignerInfo carries the same bytes under [0] IMPLICIT, so what is
  // signed is exactly what is sent (RFC 5652 §5.4).
  const signedAttrs = setOf(attrs);
  const signature = await p.signer.sign(signedAttrs, p.hash);
  const implicitAttrs = signedAttrs.slice();
  implicitAttrs[0] = 0xa0;
  const cert = asView(p.signerCertificate);
  const digestAlg = algorithmWithNull(DIGEST_OID[p.hash]);
  const si = seq(
    integer(1),
    issuerAndSerial(cert),
    digestAlg,
    implicitAttrs,
    p.signer.keyType === 'RSA' ? algorithmWithNull(OID.rsaEncryption) : algorithm(ECDSA_OID[p.hash]),
    octetString(signature),
  );
  const encap = p.content
    ? seq(objectIdentifier(OID.data), explicit(0, octetString(p.content)))
    : seq(objectIdentifier(OID.data));
  const certs = [...(p.includeSigner ? [cert.der] : []), ...p.certificates];
  const sd = seq(
    integer(1),
    set(digestAlg),
    encap,
    ...(certs.length > 0 ? [explicit(0, ...certs)] : []),
    set(si),
  );
  return seq(objectIdentifier(OID.signedData), explicit(0, sd));
}
