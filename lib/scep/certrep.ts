import { createHash, randomBytes } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  Attribute,
  CertificateChoices,
  CertificateSet,
  ContentInfo,
  DigestAlgorithmIdentifier,
  DigestAlgorithmIdentifiers,
  EncapsulatedContent,
  EncapsulatedContentInfo,
  IssuerAndSerialNumber,
  SignedData,
  SignerIdentifier,
  SignerInfo,
  SignerInfos,
} from '@peculiar/asn1-cms';
import { AlgorithmIdentifier, Certificate } from '@peculiar/asn1-x509';
import type { HashAlgorithm, Signer } from '../keys/types.js';
import { derSet } from '../cms/der.js';
import { octetAttr, oidAttr, printableAttr, timeAttr, utf8Attr } from './attributes.js';
import { FailInfo, MessageType, OID, PKIStatus } from './types.js';

const DIGEST_OID: Record<HashAlgorithm, string> = {
  'SHA-1': '1.3.14.3.2.26',
  'SHA-256': '2.16.840.1.101.3.4.2.1',
  'SHA-384': '2.16.840.1.101.3.4.2.2',
  'SHA-512': '2.16.840.1.101.3.4.2.3',
};
const NODE_HASH: Record<HashAlgorithm, string> = { 'SHA-1': 'sha1', 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' };

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
  readonly signerCertificate: Certificate;
  /** Extra certificates to carry (chain); the signer certificate is always included. */
  readonly extraCertificates?: readonly Certificate[];
  readonly signer: Signer;
  readonly hash: HashAlgorithm;
  readonly now?: Date;
}

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
  const attrs: Attribute[] = [
    oidAttr(OID.contentType, OID.data),
    timeAttr(OID.signingTime, p.now ?? new Date()),
    printableAttr(OID.messageType, String(MessageType.CertRep)),
    printableAttr(OID.pkiStatus, String(p.outcome.status)),
    printableAttr(OID.transactionID, p.transactionId),
    octetAttr(OID.senderNonce, new Uint8Array(randomBytes(16))),
    octetAttr(OID.recipientNonce, p.recipientNonce),
    octetAttr(OID.messageDigest, digest(p.hash, content ?? new Uint8Array(0))),
  ];
  if (p.outcome.status === PKIStatus.FAILURE) {
    attrs.push(printableAttr(OID.failInfo, String(p.outcome.failInfo)));
    if (p.outcome.failInfoText) attrs.push(utf8Attr(OID.failInfoText, p.outcome.failInfoText.slice(0, 250)));
  }
  // DER SET OF: elements sorted by their encodings (X.690 §11.6); the SignerInfo carries them
  // in the same order so its [0] IMPLICIT encoding matches what was signed.
  const encoded = attrs.map((a) => ({ a, der: Buffer.from(AsnConvert.serialize(a)) }));
  encoded.sort((x, y) => Buffer.compare(x.der, y.der));
  const signedAttrs = encoded.map((e) => e.a);
  const toSign = derSet(encoded.map((e) => e.der));
  const signature = await p.signer.sign(toSign, p.hash);
  const cert = p.signerCertificate;
  const si = new SignerInfo({
    version: 1,
    sid: new SignerIdentifier({
      issuerAndSerialNumber: new IssuerAndSerialNumber({
        issuer: cert.tbsCertificate.issuer,
        serialNumber: cert.tbsCertificate.serialNumber,
      }),
    }),
    digestAlgorithm: new DigestAlgorithmIdentifier({ algorithm: DIGEST_OID[p.hash], parameters: null }),
    signedAttrs,
    signatureAlgorithm:
      p.signer.keyType === 'RSA'
        ? new AlgorithmIdentifier({ algorithm: OID.rsaEncryption, parameters: null })
        : new AlgorithmIdentifier({ algorithm: ecdsaOid(p.hash) }),
    signature: new OctetString(signature),
  });
  const sd = new SignedData({
    version: 1,
    digestAlgorithms: new DigestAlgorithmIdentifiers([
      new DigestAlgorithmIdentifier({ algorithm: DIGEST_OID[p.hash], parameters: null }),
    ]),
    encapContentInfo: new EncapsulatedContentInfo({
      eContentType: OID.data,
      ...(content ? { eContent: new EncapsulatedContent({ single: new OctetString(content) }) } : {}),
    }),
    certificates: new CertificateSet(
      [cert, ...(p.extraCertificates ?? [])].map((c) => new CertificateChoices({ certificate: c })),
    ),
    signerInfos: new SignerInfos([si]),
  });
  return new Uint8Array(
    AsnConvert.serialize(new ContentInfo({ contentType: OID.signedData, content: AsnConvert.serialize(sd) })),
  );
}

function digest(hash: HashAlgorithm, data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash(NODE_HASH[hash]).update(data).digest());
}

function ecdsaOid(hash: HashAlgorithm): string {
  return { 'SHA-1': '1.2.840.10045.4.1', 'SHA-256': '1.2.840.10045.4.3.2', 'SHA-384': '1.2.840.10045.4.3.3', 'SHA-512': '1.2.840.10045.4.3.4' }[hash];
}
