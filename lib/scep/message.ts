import { createHash } from 'node:crypto';
import { AsnConvert, AsnParser } from '@peculiar/asn1-schema';
import { ContentInfo, IssuerAndSerialNumber, SignedData, SignerInfo } from '@peculiar/asn1-cms';
import { Certificate } from '@peculiar/asn1-x509';
import { badRequest } from '../errors.js';
import { verifyWithSpki } from '../csr/parse.js';
import { derSet } from '../cms/der.js';
import type { HashAlgorithm } from '../keys/types.js';
import { readOctets, readString } from './attributes.js';
import { MessageType, OID } from './types.js';

const DIGESTS: Record<string, HashAlgorithm> = {
  '1.3.14.3.2.26': 'SHA-1',
  '2.16.840.1.101.3.4.2.1': 'SHA-256',
  '2.16.840.1.101.3.4.2.2': 'SHA-384',
  '2.16.840.1.101.3.4.2.3': 'SHA-512',
};
const NODE_HASH: Record<HashAlgorithm, string> = {
  'SHA-1': 'sha1',
  'SHA-256': 'sha256',
  'SHA-384': 'sha384',
  'SHA-512': 'sha512',
};

/** A parsed, not yet trusted, pkiMessage (RFC 8894 §3.2). */
export interface PkiMessage {
  readonly messageType: number;
  /** Verbatim transactionID (base64, hex or decimal as the client made it). */
  readonly transactionId: string;
  readonly senderNonce: Uint8Array;
  readonly digestAlgorithm: HashAlgorithm;
  /** The request signer's certificate: self-signed, or an earlier certificate for renewal. */
  readonly signerCertificate: Certificate;
  readonly signerCertificateDer: Uint8Array;
  /** DER ContentInfo of the pkcsPKIEnvelope (EnvelopedData); empty when absent. */
  readonly envelope: Uint8Array;
  /** True when the signature over the signed attributes verifies with the signer certificate. */
  readonly signatureValid: boolean;
}

/**
 * Parse a pkiMessage. BER is accepted (jscep, certmonger and sscep send indefinite lengths;
 * micromdm scepclient sends a constructed encryptedContent). The signer certificate is parsed
 * leniently (field notes #8: Windows' self-signed request signer carries a critical AKI that
 * strict parsers reject): only its public key and issuer/serial are used.
 * Throws AppError BAD_REQUEST when the message cannot be read at all; a message that parses but
 * does not verify is returned with `signatureValid: false` so it can get a signed FAILURE.
 */
export function parsePkiMessage(der: Uint8Array): PkiMessage {
  let signed: SignedData;
  try {
    const ci = AsnParser.parse(der, ContentInfo);
    if (ci.contentType !== OID.signedData) throw new Error(`contentType ${ci.contentType} is not signedData`);
    signed = AsnParser.parse(ci.content, SignedData);
  } catch (e) {
    throw badRequest('the SCEP message is not a CMS SignedData structure', e);
  }
  const si = signed.signerInfos[0];
  if (!si) throw badRequest('the SCEP message has no signer');
  const attrs = new Map<string, ArrayBuffer>();
  for (const a of si.signedAttrs ?? []) if (a.attrValues[0]) attrs.set(a.attrType, a.attrValues[0]);

  const need = (oid: string, name: string): ArrayBuffer => {
    const v = attrs.get(oid);
    if (!v) throw badRequest(`the SCEP message lacks the ${name} attribute`);
    return v;
  };
  let messageType: number;
  let transactionId: string;
  let senderNonce: Uint8Array;
  try {
    messageType = Number.parseInt(readString(need(OID.messageType, 'messageType')), 10);
    transactionId = readString(need(OID.transactionID, 'transactionID'));
    senderNonce = readOctets(need(OID.senderNonce, 'senderNonce'));
  } catch (e) {
    throw e instanceof Error && e.name === 'AppError' ? e : badRequest('a SCEP attribute cannot be read', e);
  }
  if (!Number.isInteger(messageType)) throw badRequest('the messageType attribute is not a number');
  if (transactionId === '') throw badRequest('the transactionID attribute is empty');

  const digestAlgorithm = DIGESTS[si.digestAlgorithm.algorithm];
  if (!digestAlgorithm) throw badRequest(`unsupported digest algorithm ${si.digestAlgorithm.algorithm}`);

  const signerCert = findSigner(signed, si);
  if (!signerCert) throw badRequest('the SCEP message does not carry its signer certificate');
  const content = encapsulatedContent(signed);

  return {
    messageType,
    transactionId,
    senderNonce,
    digestAlgorithm,
    signerCertificate: signerCert,
    signerCertificateDer: new Uint8Array(AsnConvert.serialize(signerCert)),
    envelope: content,
    signatureValid: verifySignerInfo(si, signerCert, digestAlgorithm, content, attrs.get(OID.messageDigest)),
  };
}

export function isKnownMessageType(t: number): t is MessageType {
  return t in MessageType;
}

function findSigner(signed: SignedData, si: SignerInfo): Certificate | undefined {
  const certs = (signed.certificates ?? []).flatMap((c) => (c.certificate ? [c.certificate] : []));
  const sid = si.sid;
  if (sid.issuerAndSerialNumber) {
    const want = AsnConvert.serialize(sid.issuerAndSerialNumber);
    const match = certs.find((c) => {
      const ias = new IssuerAndSerialNumber({
        issuer: c.tbsCertificate.issuer,
        serialNumber: c.tbsCertificate.serialNumber,
      });
      return Buffer.from(AsnConvert.serialize(ias)).equals(Buffer.from(want));
    });
    if (match) return match;
  }
  // subjectKeyIdentifier sids, or clients that name the signer loosely: a single certificate is the signer.
  return certs.length === 1 ? certs[0] : undefined;
}

function encapsulatedContent(signed: SignedData): Uint8Array {
  const ec = signed.encapContentInfo.eContent;
  if (!ec) return new Uint8Array(0);
  if (ec.single) return new Uint8Array(ec.single.buffer);
  if (ec.any) return new Uint8Array(ec.any);
  return new Uint8Array(0);
}

function verifySignerInfo(
  si: SignerInfo,
  cert: Certificate,
  hash: HashAlgorithm,
  content: Uint8Array,
  messageDigest: ArrayBuffer | undefined,
): boolean {
  if (!si.signedAttrs || !messageDigest) return false;
  let claimed: Uint8Array;
  try {
    claimed = readOctets(messageDigest);
  } catch {
    return false;
  }
  const actual = createHash(NODE_HASH[hash]).update(content).digest();
  if (!actual.equals(Buffer.from(claimed))) return false;
  // RFC 5652 §5.4: the signature covers the DER encoding of the SET OF signed attributes, in
  // the order sent (attribute values are kept as raw bytes, so re-encoding reproduces them).
  const signedBytes = derSet(si.signedAttrs.map((a) => new Uint8Array(AsnConvert.serialize(a))));
  const spki = new Uint8Array(AsnConvert.serialize(cert.tbsCertificate.subjectPublicKeyInfo));
  const sigAlg = si.signatureAlgorithm.algorithm;
  // Many clients put rsaEncryption (the key algorithm) here; the hash is the digestAlgorithm.
  const effective = sigAlg === OID.rsaEncryption ? rsaSigOid(hash) : sigAlg;
  return verifyWithSpki(spki, effective, si.signatureAlgorithm.parameters ?? null, signedBytes, new Uint8Array(si.signature.buffer));
}

function rsaSigOid(hash: HashAlgorithm): string {
  return {
    'SHA-1': '1.2.840.113549.1.1.5',
    'SHA-256': '1.2.840.113549.1.1.11',
    'SHA-384': '1.2.840.113549.1.1.12',
    'SHA-512': '1.2.840.113549.1.1.13',
  }[hash];
}
