/**
 * SCEP message model, named as RFC 8894 names it.
 */

/** RFC 8894 §3.2.1.2 messageType (a PrintableString holding the decimal value). */
export enum MessageType {
  CertRep = 3,
  RenewalReq = 17,
  PKCSReq = 19,
  CertPoll = 20,
  GetCert = 21,
  GetCRL = 22,
}

/** RFC 8894 §3.2.1.3 pkiStatus. */
export enum PKIStatus {
  SUCCESS = 0,
  FAILURE = 2,
  PENDING = 3,
}

/** RFC 8894 §3.2.1.4 failInfo. */
export enum FailInfo {
  /** Unrecognized or unsupported algorithm. */
  badAlg = 0,
  /** Integrity check (meaning signature verification of the CMS message) failed. */
  badMessageCheck = 1,
  /** Transaction not permitted or supported. */
  badRequest = 2,
  /** The signingTime attribute from the CMS authenticatedAttributes was not sufficiently close to the system time. */
  badTime = 3,
  /** No certificate could be identified matching the provided criteria. */
  badCertId = 4,
}

/** Attribute OIDs, RFC 8894 §3.2.1 (id-VeriSign 2.16.840.1.113733 .1.9.x) and §3.2.1.4.1. */
export const OID = {
  messageType: '2.16.840.1.113733.1.9.2',
  pkiStatus: '2.16.840.1.113733.1.9.3',
  failInfo: '2.16.840.1.113733.1.9.4',
  senderNonce: '2.16.840.1.113733.1.9.5',
  recipientNonce: '2.16.840.1.113733.1.9.6',
  transactionID: '2.16.840.1.113733.1.9.7',
  /** id-scep-failInfoText (RFC 8894 §3.2.1.4.1): a UTF8String reason for humans. */
  failInfoText: '1.3.6.1.5.5.7.24.1',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  envelopedData: '1.2.840.113549.1.7.3',
  rsaEncryption: '1.2.840.113549.1.1.1',
} as const;

/** Media types, RFC 8894 §4. */
export const MediaType = {
  pkiMessage: 'application/x-pki-message',
  caCert: 'application/x-x509-ca-cert',
  caRaCert: 'application/x-x509-ca-ra-cert',
  nextCaCert: 'application/x-x509-next-ca-cert',
  text: 'text/plain; charset=utf-8',
} as const;
