import { randomBytes } from 'node:crypto';
import type { Certificate } from '@peculiar/asn1-x509';
import { octetString as octets, printableString, utf8String, x509Time } from '../cms/der.js';
import type { HashAlgorithm, Signer } from '../keys/types.js';
import type { CertView } from '../x509/cert-view.js';
import { attribute, buildSignedData } from './signed-data.js';
import { FailInfo, MessageType, OID, PKIStatus } from './types.js';

export type CertRepOutcome =
  | { readonly status: PKIStatus.SUCCESS; readonly envelope: Uint8Array }
  | { readonly status: PKIStatus.FAILURE; readonly failInfo: FailInfo; readonly failInfoText?: string }
  | { readonly status: PKIStatus.PENDING };

export interface CertRepParams {
  readonly transactionId: string;
  /**
   * The request's transactionID value as encoded (DER, its own string type), echoed as is;
   * absent, `transactionId` is written as a PrintableString.
   */
  readonly transactionIdValue?: Uint8Array;
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

const printable = (type: string, value: string): Uint8Array => attribute(type, printableString(value));
const octetString = (type: string, value: Uint8Array): Uint8Array => attribute(type, octets(value));

/**
 * Build a signed CertRep pkiMessage (RFC 8894 §3.3.2). For FAILURE and PENDING there is no
 * pkcsPKIEnvelope. A fresh senderNonce is generated for every reply.
 */
export async function buildCertRep(p: CertRepParams): Promise<Uint8Array> {
  const content = p.outcome.status === PKIStatus.SUCCESS ? p.outcome.envelope : undefined;
  const attrs: Uint8Array[] = [
    attribute(OID.signingTime, x509Time(p.now ?? new Date())),
    printable(OID.messageType, String(MessageType.CertRep)),
    printable(OID.pkiStatus, String(p.outcome.status)),
    attribute(OID.transactionID, p.transactionIdValue ?? printableString(p.transactionId)),
    octetString(OID.senderNonce, new Uint8Array(randomBytes(16))),
    octetString(OID.recipientNonce, p.recipientNonce),
  ];
  if (p.outcome.status === PKIStatus.FAILURE) {
    attrs.push(printable(OID.failInfo, String(p.outcome.failInfo)));
    if (p.outcome.failInfoText)
      attrs.push(attribute(OID.failInfoText, utf8String(p.outcome.failInfoText.slice(0, 250))));
  }
  return buildSignedData({
    content,
    attributes: attrs,
    signerCertificate: p.signerCertificate,
    includeSigner: true,
    certificates: p.extraCertificates ?? [],
    signer: p.signer,
    hash: p.hash,
  });
}
