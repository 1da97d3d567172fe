import { createHash } from 'node:crypto';
import { AsnParser } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { BerError, isContext, kid, kids, octets, oid, parseBer, raw, text, type Ber } from '../cms/ber.js';
import { verifyWithSpki } from '../csr/parse.js';
import { badRequest, isAppError } from '../errors.js';
import type { HashAlgorithm } from '../keys/types.js';
import { certView, type CertView } from '../x509/cert-view.js';
import { MessageType, OID } from './types.js';
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
  readonly senderNonce: Uint8Array;
  readonly digestAlgorithm: HashAlgorithm;
  /** The request signer's certificate: self-signed, or an earlier certificate for renewal. */
  readonly signer: CertView;
  readonly signerCertificateDer: Uint8Array;
  /** The signer certificate as an @peculiar/asn1-x509 object (parsed on first use). */
  readonly signerCertificate: Certificate;
  /** DER ContentInfo of the pkcsPKIEnvelope (EnvelopedData); empty when absent. */
  readonly envelope: Uint8Array;
  /** True when the signature over the signed attributes verifies with the signer certificate. */
  readonly signatureValid: boolean;
}

/**
 * Parse a pkiMessage. BER is accepted (jscep, certmonger and sscep send indefinite lengths;
 * micromdm scepclient sends a constructed encryptedContent). The signer certificate is read
 * leniently (field notes #8): only its key, names, serial and validity are used.
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
  const ci = parseBer(der);
  if (oid(kid(ci, 0)) !== OID.signedData)
    throw badRequest('the SCEP message is not a CMS SignedData structure');
  const sd = kid(kid(ci, 1), 0);
  const parts = kids(sd);
  const encap = kid(sd, 2);
  const eContent = kids(encap)[1];
  const content = eContent ? octets(kid(eContent, 0)) : new Uint8Array(0);
  const certs = parts.filter((p) => isContext(p, 0)).flatMap((p) => kids(p));
  const signerInfos = parts[parts.length - 1];
  const si = kids(signerInfos)[0];
  if (!si) throw badRequest('the SCEP message has no signer');
  const siParts = kids(si);
  const sid = kid(si, 1);
  const digestAlgorithm = DIGEST_BY_OID[oid(kid(kid(si, 2), 0))];
  if (!digestAlgorithm) throw badRequest(`unsupported digest algorithm ${oid(kid(kid(si, 2), 0))}`);
  const signedAttrsNode = siParts.find((p) => isContext(p, 0));
  if (!signedAttrsNode) throw badRequest('the SCEP message has no signed attributes');
  const afterAttrs = siParts.indexOf(signedAttrsNode) + 1;
  const sigAlg = kid(si, afterAttrs);
  const signature = octets(kid(si, afterAttrs + 1));

  const attrs = new Map<string, Ber>();
  for (const a of kids(signedAttrsNode)) {
    const value = kids(kid(a, 1))[0];
    if (value) attrs.set(oid(kid(a, 0)), value);
  }
  const need = (o: string, name: string): Ber => {
    const v = attrs.get(o);
    if (!v) throw badRequest(`the SCEP message lacks the ${name} attribute`);
    return v;
  };
  const messageType = Number.parseInt(text(need(OID.messageType, 'messageType')), 10);
  const transactionId = text(need(OID.transactionID, 'transactionID'));
  const senderNonce = octets(need(OID.senderNonce, 'senderNonce'));
  if (!Number.isInteger(messageType)) throw badRequest('the messageType attribute is not a number');
  if (transactionId === '') throw badRequest('the transactionID attribute is empty');

  const signerNode = findSigner(certs, sid);
  if (!signerNode) throw badRequest('the SCEP message does not carry its signer certificate');
  const signer = certView(signerNode);
  const messageDigest = attrs.get(OID.messageDigest);
  let valid = false;
  if (messageDigest) {
    const actual = createHash(NODE_HASH[digestAlgorithm]).update(content).digest();
    if (actual.equals(octets(messageDigest))) {
      // RFC 5652 §5.4: the signature covers the DER SET OF signed attributes: the [0]
      // IMPLICIT bytes exactly as sent, with the tag changed to SET (0x31).
      const signedBytes = raw(signedAttrsNode).slice();
      signedBytes[0] = 0x31;
      valid = verifyWithSpki(
        signer.spki,
        effectiveSignatureOid(oid(kid(sigAlg, 0)), digestAlgorithm),
        paramsOf(sigAlg),
        signedBytes,
        signature,
      );
    }
  }
  let parsedCert: Certificate | undefined;
  return {
    messageType,
    transactionId,
    senderNonce,
    digestAlgorithm,
    signer,
    signerCertificateDer: signer.der,
    get signerCertificate(): Certificate {
      parsedCert ??= AsnParser.parse(signer.der, Certificate);
      return parsedCert;
    },
    envelope: content,
    signatureValid: valid,
  };
}

export function isKnownMessageType(t: number): t is MessageType {
  return t in MessageType;
}

/** The certificate named by the SignerIdentifier; a lone certificate when it names none of them. */
function findSigner(certs: Ber[], sid: Ber): Ber | undefined {
  if (!isContext(sid, 0)) {
    const issuer = Buffer.from(raw(kid(sid, 0)));
    const serial = Buffer.from(raw(kid(sid, 1)));
    for (const c of certs) {
      try {
        const tbs = kid(c, 0);
        const o = kids(tbs)[0] && isContext(kid(tbs, 0), 0) ? 1 : 0;
        if (Buffer.from(raw(kid(tbs, o))).equals(serial) && Buffer.from(raw(kid(tbs, o + 2))).equals(issuer))
          return c;
      } catch (e) {
        if (!(e instanceof BerError)) throw e;
      }
    }
  }
  // subjectKeyIdentifier sids, or clients that name the signer loosely: a single certificate is the signer.
  return certs.length === 1 ? certs[0] : undefined;
}

/** Many clients put the key algorithm (rsaEncryption, ecPublicKey) here; the hash is the digestAlgorithm. */
function effectiveSignatureOid(sigOid: string, hash: HashAlgorithm): string {
  if (sigOid === OID.rsaEncryption) return RSA_SIG_BY_HASH[hash];
  if (sigOid === '1.2.840.10045.2.1') return ECDSA_SIG_BY_HASH[hash];
  return sigOid;
}

function paramsOf(alg: Ber): ArrayBuffer | null {
  const p = kids(alg)[1];
  return p ? raw(p).slice().buffer : null;
}
