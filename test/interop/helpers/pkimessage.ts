/**
 * A test-side reading of SCEP pkiMessages (RFC 8894 §3), independent of lib/scep: the interop
 * tests use it to state what a real client sent and what the server answered, without trusting
 * the code under test. Only the unencrypted layers are read: the SignedData, its signed
 * attributes and the EnvelopedData headers (cipher, recipients).
 */
import { ContentInfo, EnvelopedData, SignedData, id_envelopedData, id_signedData } from '@peculiar/asn1-cms';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';

/** RFC 8894 §3.2.1: the SCEP authenticated attributes (id-attributes 2.16.840.1.113733.1.9.x). */
const Attr = {
  messageType: '2.16.840.1.113733.1.9.2',
  pkiStatus: '2.16.840.1.113733.1.9.3',
  failInfo: '2.16.840.1.113733.1.9.4',
  senderNonce: '2.16.840.1.113733.1.9.5',
  recipientNonce: '2.16.840.1.113733.1.9.6',
  transactionID: '2.16.840.1.113733.1.9.7',
} as const;

/** RFC 8894 §3.2.1.2 messageType values. */
export const MessageTypeName: Readonly<Record<string, string>> = {
  '3': 'CertRep',
  '17': 'RenewalReq',
  '19': 'PKCSReq',
  '20': 'CertPoll',
  '21': 'GetCert',
  '22': 'GetCRL',
};

/** RFC 8894 §3.2.1.4 pkiStatus and §3.2.1.5 failInfo values. */
export const PkiStatusName: Readonly<Record<string, string>> = {
  '0': 'SUCCESS',
  '2': 'FAILURE',
  '3': 'PENDING',
};
export const FailInfoName: Readonly<Record<string, string>> = {
  '0': 'badAlg',
  '1': 'badMessageCheck',
  '2': 'badRequest',
  '3': 'badTime',
  '4': 'badCertId',
};

export const CipherOid = {
  'DES-CBC': '1.3.14.3.2.7',
  'DES-EDE3-CBC': '1.2.840.113549.3.7',
  'AES-128-CBC': '2.16.840.1.101.3.4.1.2',
  'AES-192-CBC': '2.16.840.1.101.3.4.1.22',
  'AES-256-CBC': '2.16.840.1.101.3.4.1.42',
} as const;
export type CipherName = keyof typeof CipherOid;

export const RSA_ENCRYPTION = '1.2.840.113549.1.1.1';

export function cipherName(oid: string): string {
  const hit = Object.entries(CipherOid).find(([, o]) => o === oid);
  return hit ? hit[0] : oid;
}

export interface PkiMessageSummary {
  messageType: string | undefined;
  transactionID: string | undefined;
  pkiStatus: string | undefined;
  failInfo: string | undefined;
  senderNonce: string | undefined;
  recipientNonce: string | undefined;
  /** Serial number (lower-case hex, no leading zeros) of the certificate that signed the message. */
  signerSerial: string | undefined;
  digestAlgorithm: string | undefined;
  signatureAlgorithm: string | undefined;
  /** The encrypted content's headers; absent when the message has no pkcsPKIEnvelope (a FAILURE). */
  envelope: { cipher: string; recipientSerials: string[] } | undefined;
}

export function normalizeSerial(hex: string): string {
  const s = hex.replace(/[^0-9a-f]/gi, '').toLowerCase();
  return s.replace(/^0+(?=.)/, '');
}

/** Content octets of one DER TLV (PrintableString, OCTET STRING…); short and long lengths. */
function tlvContent(der: Uint8Array): Uint8Array {
  const first = der[1] ?? 0;
  if (first < 0x80) return der.subarray(2, 2 + first);
  const n = first & 0x7f;
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + (der[2 + i] ?? 0);
  return der.subarray(2 + n, 2 + n + len);
}

function eContentBytes(sd: SignedData): Uint8Array | undefined {
  const ec = sd.encapContentInfo.eContent;
  if (!ec) return undefined;
  if (ec.single) return new Uint8Array(ec.single.buffer);
  // BER constructed OCTET STRING: concatenate its segments.
  if (ec.any) return new Uint8Array(AsnConvert.parse(ec.any, OctetString).buffer);
  return undefined;
}

export function summarizePkiMessage(der: Uint8Array): PkiMessageSummary {
  const ci = AsnConvert.parse(der, ContentInfo);
  if (ci.contentType !== id_signedData) throw new Error(`not a SignedData pkiMessage (${ci.contentType})`);
  const sd = AsnConvert.parse(ci.content, SignedData);
  const si = sd.signerInfos[0];
  if (!si) throw new Error('pkiMessage has no SignerInfo');
  const attrs = new Map<string, Uint8Array>();
  for (const a of si.signedAttrs ?? []) {
    const v = a.attrValues[0];
    if (v) attrs.set(a.attrType, tlvContent(new Uint8Array(v)));
  }
  const text = (oid: string): string | undefined => {
    const v = attrs.get(oid);
    return v ? Buffer.from(v).toString('latin1') : undefined;
  };
  const hex = (oid: string): string | undefined => {
    const v = attrs.get(oid);
    return v ? Buffer.from(v).toString('hex') : undefined;
  };
  const signerSerial = si.sid.issuerAndSerialNumber
    ? normalizeSerial(Buffer.from(si.sid.issuerAndSerialNumber.serialNumber).toString('hex'))
    : undefined;
  return {
    messageType: text(Attr.messageType),
    transactionID: text(Attr.transactionID),
    pkiStatus: text(Attr.pkiStatus),
    failInfo: text(Attr.failInfo),
    senderNonce: hex(Attr.senderNonce),
    recipientNonce: hex(Attr.recipientNonce),
    signerSerial,
    digestAlgorithm: si.digestAlgorithm.algorithm,
    signatureAlgorithm: si.signatureAlgorithm.algorithm,
    envelope: readEnvelope(eContentBytes(sd)),
  };
}

function readEnvelope(content: Uint8Array | undefined): PkiMessageSummary['envelope'] {
  if (!content || content.length === 0) return undefined;
  const ci = AsnConvert.parse(content, ContentInfo);
  if (ci.contentType !== id_envelopedData)
    throw new Error(`pkcsPKIEnvelope is not EnvelopedData (${ci.contentType})`);
  const ed = AsnConvert.parse(ci.content, EnvelopedData);
  const recipientSerials = ed.recipientInfos.map((ri) => {
    const ias = ri.ktri?.rid.issuerAndSerialNumber;
    return ias
      ? normalizeSerial(Buffer.from(ias.serialNumber).toString('hex'))
      : '(not issuerAndSerialNumber)';
  });
  return { cipher: ed.encryptedContentInfo.contentEncryptionAlgorithm.algorithm, recipientSerials };
}

/** One line for logs: "PKCSReq tid=… cipher=DES-CBC" / "CertRep FAILURE failInfo=badRequest". */
export function describePkiMessage(s: PkiMessageSummary): string {
  const parts = [MessageTypeName[s.messageType ?? ''] ?? `messageType=${s.messageType ?? '?'}`];
  if (s.pkiStatus !== undefined) parts.push(PkiStatusName[s.pkiStatus] ?? `pkiStatus=${s.pkiStatus}`);
  if (s.failInfo !== undefined) parts.push(`failInfo=${FailInfoName[s.failInfo] ?? s.failInfo}`);
  parts.push(`tid=${s.transactionID ?? '?'}`, `signer=${s.signerSerial ?? '?'}`);
  parts.push(`sigAlg=${s.signatureAlgorithm ?? '?'}`);
  if (s.envelope) {
    parts.push(`cipher=${cipherName(s.envelope.cipher)}`, `to=[${s.envelope.recipientSerials.join(',')}]`);
  }
  return parts.join(' ');
}
