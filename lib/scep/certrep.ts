import { createHash, randomBytes } from 'node:crypto';
import type { Certificate } from '@peculiar/asn1-x509';
import {
  algorithm,
  algorithmWithNull,
  explicit,
  integer,
  objectIdentifier,
  octetString as octets,
  printableString,
  seq,
  set,
  setOf,
  utf8String,
  x509Time,
} from '../cms/ber.js';
import type { HashAlgorithm, Signer } from '../keys/types.js';
import { asView } from '../x509/as-view.js';
import type { CertView } from '../x509/cert-view.js';
import { issuerAndSerial } from './envelope.js';
import { FailInfo, MessageType, OID, PKIStatus } from './types.js';
import { DIGEST_OID, ECDSA_SIGNATURE_OID as ECDSA_OID, NODE_HASH } from '../cms/algorithms.js';

export type CertRepOutcome =
  | { readonly status: PKIStatus.SUCCESS; readonly envelope: Uint8Array }
  | { readonly status: PKIStatus.FAILURE; readonly failInfo: FailInfo; readonly failInfoText?: string }
  | { readonly status: PKIStatus.PENDING };

export interface CertRepParams {
  readonly transactionId: string;
  /** The request's senderNonce, returned as recipientNonce (RFC 8894 §3.2.1.5). */
  readonly recipientNonce: Uint8Array;
  readonly outcome: CertRepOutcome;
  /** The certificate that signs the reply: the CA (CA mode) or the endpoint's RA certificate. */
  readonly signerCertificate: Certificate | CertView;
  /** Extra certificates to carry (chain), DER; the signer certificate is always included. */
  readonly extraCertificates?: readonly Uint8Array[];
  readonly signer: Signer;
  readonly hash: HashAlgorithm;
  readonly now?: Date;
}

const attr = (type: string, value: Uint8Array): Uint8Array => seq(objectIdentifier(type), set(value));
const printable = (type: string, value: string): Uint8Array => attr(type, printableString(value));
const octetString = (type: string, value: Uint8Array): Uint8Array => attr(type, octets(value));

/**
 * Build a signed CertRep pkiMessage (RFC 8894 §3.3.2). For FAILURE and PENDING there is no
 * pkcsPKIEnvelope. A fresh senderNonce is generated for every reply.
 *
 * SignerInfo.signatureAlgorithm is rsaEncryption, not sha256WithRSAEncryption: strongSwan
 * 5.9.x refuses the latter in a CertRep ("only RSA digest encryption supported"), and
 * RFC 5652 §10.1.2 allows either.
 */
export async function buildCertRep(p: CertRepParams): Promise<Uint8Array> {
  const content = p.outcome.status === PKIStatus.SUCCESS ? p.outcome.envelope : undefined;
  const attrs: Uint8Array[] = [
    attr(OID.contentType, objectIdentifier(OID.data)),
    attr(OID.signingTime, x509Time(p.now ?? new Date())),
    printable(OID.messageType, String(MessageType.CertRep)),
    printable(OID.pkiStatus, String(p.outcome.status)),
    printable(OID.transactionID, p.transactionId),
    octetString(OID.senderNonce, new Uint8Array(randomBytes(16))),
    octetString(OID.recipientNonce, p.recipientNonce),
    octetString(
      OID.messageDigest,
      new Uint8Array(
        createHash(NODE_HASH[p.hash])
          .update(content ?? new Uint8Array(0))
          .digest(),
      ),
    ),
  ];
  if (p.outcome.status === PKIStatus.FAILURE) {
    attrs.push(printable(OID.failInfo, String(p.outcome.failInfo)));
    if (p.outcome.failInfoText)
      attrs.push(attr(OID.failInfoText, utf8String(p.outcome.failInfoText.slice(0, 250))));
  }
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
    octets(signature),
  );
  const encap = content
    ? seq(objectIdentifier(OID.data), explicit(0, octets(content)))
    : seq(objectIdentifier(OID.data));
  const sd = seq(
    integer(1),
    set(digestAlg),
    encap,
    explicit(0, cert.der, ...(p.extraCertificates ?? [])),
    set(si),
  );
  return seq(objectIdentifier(OID.signedData), explicit(0, sd));
}
