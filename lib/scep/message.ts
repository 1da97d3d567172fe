import { createHash } from 'node:crypto';
import { AsnParser } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import {
  BerError,
  bits,
  content,
  isContext,
  isUniversal,
  kid,
  kids,
  octets,
  oid,
  parseBer,
  raw,
  text,
  type Ber,
} from '../cms/ber.js';
import { tlv } from '../cms/der.js';
import { algorithmIdentifier, explicitOf, octetStringValue, sequence } from '../cms/strict.js';
import { verifyWithSpki } from '../csr/parse.js';
import { badRequest, isAppError } from '../errors.js';
import type { HashAlgorithm } from '../keys/types.js';
import { certView, type CertView } from '../x509/cert-view.js';
import { nameDerToString } from '../x509/names.js';
import { MessageType, OID } from './types.js';
import { readSignedData, readSignerInfo, signedAttributes, type SignerInfoParts } from './signed-parts.js';
import {
  DIGEST_BY_OID,
  ECDSA_SIGNATURE_OID as ECDSA_SIG_BY_HASH,
  NODE_HASH,
  RSA_SIGNATURE_OID as RSA_SIG_BY_HASH,
} from '../cms/algorithms.js';

/** A parsed, not yet trusted, pkiMessage (RFC 8894 §3.2). */
export interface PkiMessage {
  readonly messageType: number;
  /** Verbatim transactionID (base64, hex or decimal as the client made it). */
  readonly transactionId: string;
  /** The transactionID value as DER, in the client's string type: the CertRep echoes it. */
  readonly transactionIdValue: Uint8Array;
  readonly senderNonce: Uint8Array;
  readonly digestAlgorithm: HashAlgorithm;
  /** The request signer's certificate: self-signed, or an earlier certificate for renewal. */
  readonly signer: CertView;
  /** The signer's subject as RFC 4514 text (the audit actor), decoded once here. */
  readonly signerSubject: string;
  readonly signerCertificateDer: Uint8Array;
  /** The signer certificate as an @peculiar/asn1-x509 object (parsed on first use). */
  readonly signerCertificate: Certificate;
  /** DER ContentInfo of the pkcsPKIEnvelope (EnvelopedData); empty when absent. */
  readonly envelope: Uint8Array;
  /** True when the signature over the signed attributes verifies with the signer certificate. */
  readonly signatureValid: boolean;
  /** True when the signer certificate is self-signed and its own signature verifies. */
  readonly signerSelfSigned: boolean;
}

/**
 * Parse a pkiMessage. BER is accepted (jscep, certmonger and sscep send indefinite lengths;
 * micromdm scepclient sends a constructed encryptedContent). The signer certificate is read
 * leniently (Windows' self-signed request signer carries a
 * critical AuthorityKeyIdentifier that strict parsers reject): only its key, names, serial and validity are used.
 * Throws AppError BAD_REQUEST when the message cannot be read at all; a message that parses but
 * does not verify is returned with `signatureValid: false` so it can get a signed FAILURE.
 */
export function parsePkiMessage(der: Uint8Array): PkiMessage {
  try {
    return parse(der);
  } catch (e) {
    if (isAppError(e)) throw e;
    throw badRequest('the SCEP message is not a CMS SignedData structure', e);
  }
}

function parse(der: Uint8Array): PkiMessage {
  const ci = sequence(parseBer(der), 'ContentInfo');
  if (ci.length !== 2 || oid(ci[0] as Ber) !== OID.signedData)
    throw badRequest('the SCEP message is not a CMS SignedData structure');
  const sd = readSignedData(explicitOf(ci[1], 0, 'ContentInfo.content'));
  const si = readSignerInfo(sd.signerInfo);
  if (sd.version !== si.version) throw new BerError('SignedData.version does not match its SignerInfo');
  const digestAlgorithm = DIGEST_BY_OID[si.digestOid];
  if (!digestAlgorithm) throw badRequest(`unsupported digest algorithm ${si.digestOid}`);
  // RFC 5652 §5.1: digestAlgorithms lists the SignerInfo's digest algorithm.
  if (!sd.digestOids.includes(si.digestOid))
    throw new BerError('SignedData.digestAlgorithms does not list the signer digest algorithm');

  const attrs = signedAttributes(si.signedAttrs);
  const need = (o: string, name: string): Ber => {
    const v = attrs.get(o);
    if (!v) throw badRequest(`the SCEP message lacks the ${name} attribute`);
    return v;
  };
  // RFC 8894 §3.2.1.2: a PrintableString of the decimal value; "19abc" is not 19.
  const messageTypeText = text(need(OID.messageType, 'messageType'));
  const messageType = /^\d{1,3}$/.test(messageTypeText) ? Number(messageTypeText) : Number.NaN;
  const transactionIdNode = need(OID.transactionID, 'transactionID');
  const transactionId = text(transactionIdNode);
  const senderNonce = octetStringValue(need(OID.senderNonce, 'senderNonce'), 'senderNonce');
  if (!Number.isInteger(messageType)) throw badRequest('the messageType attribute is not a number');
  if (transactionId === '') throw badRequest('the transactionID attribute is empty');

  const signerNode = findSigner(sd.certificates, si.sid);
  if (!signerNode) throw badRequest('the SCEP message does not carry its signer certificate');
  const signer = certView(signerNode);
  let signerSubject: string;
  try {
    // Its names are read later (audit actor, renewal identity): a Name that does not decode
    // would throw there, as a 500, instead of refusing the message here.
    signerSubject = nameDerToString(signer.subject);
    nameDerToString(signer.issuer);
  } catch (e) {
    throw badRequest('the signer certificate names cannot be read', e);
  }
  const messageDigest = attrs.get(OID.messageDigest);
  const valid = messageDigest
    ? signatureVerifies(sd.content, si, signer.spki, digestAlgorithm, messageDigest)
    : false;
  let parsedCert: Certificate | undefined;
  return {
    messageType,
    transactionId,
    // text() accepted a universal string type (tag below 31); BER segments are joined.
    transactionIdValue: tlv(transactionIdNode.tag, octets(transactionIdNode)),
    senderNonce,
    digestAlgorithm,
    signer,
    signerSubject,
    signerCertificateDer: signer.der,
    get signerCertificate(): Certificate {
      parsedCert ??= AsnParser.parse(signer.der, Certificate);
      return parsedCert;
    },
    envelope: sd.content,
    signatureValid: valid,
    signerSelfSigned: selfSigned(signerNode, signer),
  };
}

/**
 * RFC 5652 §5.4: the messageDigest attribute matches the content, and the signature over the
 * signed attributes verifies with the signer's key.
 */
function signatureVerifies(
  eContent: Uint8Array,
  si: SignerInfoParts,
  spki: Uint8Array,
  digestAlgorithm: HashAlgorithm,
  messageDigest: Ber,
): boolean {
  const actual = createHash(NODE_HASH[digestAlgorithm]).update(eContent).digest();
  if (!actual.equals(octetStringValue(messageDigest, 'messageDigest'))) return false;
  // RFC 5652 §5.4: the signature covers the DER SET OF signed attributes: the [0]
  // IMPLICIT bytes exactly as sent, with the tag changed to SET (0x31).
  const signedBytes = raw(si.signedAttrs).slice();
  signedBytes[0] = 0x31;
  return verifyWithSpki(
    spki,
    effectiveSignatureOid(si.signatureAlgorithm.oid, digestAlgorithm),
    si.signatureAlgorithm.params ? raw(si.signatureAlgorithm.params).slice().buffer : null,
    signedBytes,
    si.signature,
  );
}

export function isKnownMessageType(t: number): t is MessageType {
  return t in MessageType;
}

/**
 * The certificate the SignerIdentifier names: by issuer and serial number (exact bytes), or by
 * subjectKeyIdentifier (its SKI extension, or RFC 5280 §4.2.1.2 method 1 over its key).
 */
function findSigner(certs: readonly Ber[], sid: Ber): Ber | undefined {
  for (const c of certs) {
    try {
      const tbs = kid(c, 0);
      const o = kids(tbs)[0] && isContext(kid(tbs, 0), 0) ? 1 : 0;
      if (isContext(sid, 0)) {
        const ski = Buffer.from(content(sid));
        const keyBits = bits(kid(kid(tbs, o + 5), 1));
        const method1 = createHash('sha1').update(keyBits).digest();
        const der = Buffer.from(raw(c));
        const inExtension = der.indexOf(Buffer.concat([Buffer.from([0x04, ski.length]), ski])) >= 0;
        if (ski.length > 0 && (method1.equals(ski) || inExtension)) return c;
        continue;
      }
      const issuer = Buffer.from(raw(kid(sid, 0)));
      const serial = Buffer.from(raw(kid(sid, 1)));
      if (Buffer.from(raw(kid(tbs, o))).equals(serial) && Buffer.from(raw(kid(tbs, o + 2))).equals(issuer))
        return c;
    } catch (e) {
      if (!(e instanceof BerError)) throw e;
    }
  }
  return undefined;
}

/**
 * The signer certificate is self-signed and its signature verifies with its own key (a first
 * enrollment, RFC 8894 §2.3); the outer structure is tag-checked too. A certificate that is not
 * must be one this CA issued (the renewal rule checks that).
 */
function selfSigned(node: Ber, view: CertView): boolean {
  try {
    const [, alg, sig] = sequence(node, 'Certificate');
    const a = algorithmIdentifier(alg, 'Certificate.signatureAlgorithm');
    if (!sig || !isUniversal(sig, 3) || sig.constructed || content(sig)[0] !== 0) return false;
    return verifyWithSpki(
      view.spki,
      a.oid,
      a.params ? raw(a.params).slice().buffer : null,
      view.tbs,
      view.signature,
    );
  } catch (e) {
    if (e instanceof BerError) return false;
    throw e;
  }
}

/** Many clients put the key algorithm (rsaEncryption, ecPublicKey) here; the hash is the digestAlgorithm. */
function effectiveSignatureOid(sigOid: string, hash: HashAlgorithm): string {
  if (sigOid === OID.rsaEncryption) return RSA_SIG_BY_HASH[hash];
  if (sigOid === '1.2.840.10045.2.1') return ECDSA_SIG_BY_HASH[hash];
  return sigOid;
}
