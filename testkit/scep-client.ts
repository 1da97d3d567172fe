/**
 * A SCEP client (RFC 8894) for the tests and the benchmarks: builds pkiMessages (PKCSReq,
 * RenewalReq, CertPoll/GetCertInitial, GetCert) the way real clients do, with knobs for the
 * variations they show (ciphers, digests, signature OIDs, key transport, several recipients),
 * and reads CertReps. Test code only: lib/ and functions/ never import testkit/, and the
 * deployment bundle (scripts/bundle.ts) refuses it.
 */
import {
  constants,
  createHash,
  createPublicKey,
  publicEncrypt,
  randomBytes,
  sign,
  type KeyObject,
  X509Certificate,
} from 'node:crypto';
import { AsnConvert, AsnParser, OctetString } from '@peculiar/asn1-schema';
import {
  Attribute,
  CertificateChoices,
  CertificateSet,
  CMSVersion,
  ContentEncryptionAlgorithmIdentifier,
  ContentInfo,
  DigestAlgorithmIdentifier,
  DigestAlgorithmIdentifiers,
  EncapsulatedContent,
  EncapsulatedContentInfo,
  EncryptedContent,
  EncryptedContentInfo,
  EnvelopedData,
  IssuerAndSerialNumber,
  KeyEncryptionAlgorithmIdentifier,
  KeyTransRecipientInfo,
  RecipientIdentifier,
  RecipientInfo,
  RecipientInfos,
  SignatureAlgorithmIdentifier,
  SignedData,
  SignerIdentifier,
  SignerInfo,
  SignerInfos,
} from '@peculiar/asn1-cms';
import { Certificate } from '@peculiar/asn1-x509';
import * as asn1js from 'asn1js';
import { CIPHERS, type ContentCipher } from '../lib/cms/ciphers.js';
import { LocalKey } from '../lib/keys/local.js';
import type { HashAlgorithm } from '../lib/keys/types.js';
import { openEnvelope } from '../lib/scep/envelope.js';
import { parsePkiMessage } from '../lib/scep/message.js';
import { parseBer, text } from '../lib/cms/ber.js';
import { set } from '../lib/cms/der.js';
import { MessageType, OID } from '../lib/scep/types.js';
import { createCipheriv } from 'node:crypto';
import forge from 'node-forge';
import { DIGEST_OID, NODE_HASH, RSA_SIGNATURE_OID as SIG_OID } from '../lib/cms/algorithms.js';

/** A SCEP string attribute value (PrintableString, UTF8String, …) as a string. */
export function readString(value: ArrayBuffer): string {
  return text(parseBer(new Uint8Array(value)));
}

export interface PkiMessageOptions {
  /** The messageType attribute; a string is sent as written (for malformed values). */
  messageType: MessageType | number | string;
  transactionId: string;
  /** The transactionID's string type: PrintableString (RFC 8894 §3.2.1.1) unless told. */
  transactionIdType?: 'printable' | 'utf8';
  senderNonce?: Uint8Array;
  /** Content to encrypt: a CSR (PKCSReq/RenewalReq), IssuerAndSubject (CertPoll), IssuerAndSerialNumber (GetCert). */
  content: Uint8Array;
  /** Certificates to encrypt the content key to (the CA, or several). */
  recipients: Certificate[];
  signerKey: KeyObject;
  signerCert: Certificate;
  cipher?: ContentCipher;
  digest?: HashAlgorithm;
  /** rsaEncryption (strongSwan style) or sha*WithRSAEncryption (micromdm style). */
  signatureOid?: 'rsaEncryption' | 'withHash';
  /** Key transport: PKCS#1 v1.5 (all real clients) or OAEP. */
  keyTransport?: 'RSA1_5' | 'RSA-OAEP';
  /** Omit the signer certificate from SignedData.certificates. */
  omitSignerCert?: boolean;
  /** Flip a byte of the signature. */
  tamperSignature?: boolean;
  /** Further signed attributes, sent as given: [type OID, values]. */
  extraAttributes?: readonly (readonly [string, readonly ArrayBuffer[]])[];
  /** Signed attributes sent instead of the ones of the same type: [type OID, values]. */
  replaceAttributes?: readonly (readonly [string, readonly ArrayBuffer[]])[];
}

/** The pkiMessage's signed attributes (RFC 8894 §3.2.1), with the options' replacements and additions. */
function signedAttributes(o: PkiMessageOptions, digest: HashAlgorithm, envelope: Uint8Array): Attribute[] {
  const attr = (type: string, value: ArrayBuffer) => new Attribute({ attrType: type, attrValues: [value] });
  return [
    attr(OID.contentType, new asn1js.ObjectIdentifier({ value: OID.data }).toBER()),
    attr(
      OID.messageDigest,
      AsnConvert.serialize(new OctetString(createHash(NODE_HASH[digest]).update(envelope).digest())),
    ),
    attr(OID.messageType, new asn1js.PrintableString({ value: String(o.messageType) }).toBER()),
    attr(
      OID.transactionID,
      o.transactionIdType === 'utf8'
        ? new asn1js.Utf8String({ value: o.transactionId }).toBER()
        : new asn1js.PrintableString({ value: o.transactionId }).toBER(),
    ),
    attr(OID.senderNonce, AsnConvert.serialize(new OctetString(o.senderNonce ?? randomBytes(16)))),
    attr(OID.signingTime, new asn1js.UTCTime({ valueDate: new Date() }).toBER()),
  ]
    .map((a) => {
      const values = o.replaceAttributes?.find(([type]) => type === a.attrType)?.[1];
      return values ? new Attribute({ attrType: a.attrType, attrValues: [...values] }) : a;
    })
    .concat(
      (o.extraAttributes ?? []).map(
        ([attrType, values]) => new Attribute({ attrType, attrValues: [...values] }),
      ),
    );
}

export function buildPkiMessage(o: PkiMessageOptions): Uint8Array {
  const digest = o.digest ?? 'SHA-256';
  const envelope = envelope_(o.content, o.recipients, o.cipher ?? 'AES-128-CBC', o.keyTransport ?? 'RSA1_5');
  const attrs = signedAttributes(o, digest, envelope);
  // DER SET OF is sorted by encoding (X.690 §11.6); Go's pkcs7 (micromdm) re-sorts before verifying.
  const encoded = attrs
    .map((a) => ({ a, der: Buffer.from(AsnConvert.serialize(a)) }))
    .sort((x, y) => Buffer.compare(x.der, y.der));
  attrs.splice(0, attrs.length, ...encoded.map((e) => e.a));
  const signature = sign(NODE_HASH[digest], set(...encoded.map((e) => new Uint8Array(e.der))), o.signerKey);
  if (o.tamperSignature) signature[0] = (signature[0] ?? 0) ^ 0xff;
  const si = new SignerInfo({
    version: CMSVersion.v1,
    sid: new SignerIdentifier({ issuerAndSerialNumber: ias(o.signerCert) }),
    digestAlgorithm: new DigestAlgorithmIdentifier({ algorithm: DIGEST_OID[digest], parameters: null }),
    signedAttrs: attrs,
    signatureAlgorithm: new SignatureAlgorithmIdentifier({
      algorithm: (o.signatureOid ?? 'withHash') === 'rsaEncryption' ? OID.rsaEncryption : SIG_OID[digest],
      parameters: null,
    }),
    signature: new OctetString(signature),
  });
  const sd = new SignedData({
    version: CMSVersion.v1,
    digestAlgorithms: new DigestAlgorithmIdentifiers([
      new DigestAlgorithmIdentifier({ algorithm: DIGEST_OID[digest], parameters: null }),
    ]),
    encapContentInfo: new EncapsulatedContentInfo({
      eContentType: OID.data,
      eContent: new EncapsulatedContent({ single: new OctetString(envelope) }),
    }),
    ...(o.omitSignerCert
      ? {}
      : { certificates: new CertificateSet([new CertificateChoices({ certificate: o.signerCert })]) }),
    signerInfos: new SignerInfos([si]),
  });
  return new Uint8Array(
    AsnConvert.serialize(new ContentInfo({ contentType: OID.signedData, content: AsnConvert.serialize(sd) })),
  );
}

function ias(c: Certificate): IssuerAndSerialNumber {
  return new IssuerAndSerialNumber({
    issuer: c.tbsCertificate.issuer,
    serialNumber: c.tbsCertificate.serialNumber,
  });
}

function envelope_(
  content: Uint8Array,
  recipients: Certificate[],
  cipher: ContentCipher,
  transport: 'RSA1_5' | 'RSA-OAEP',
): Uint8Array {
  const spec = CIPHERS[cipher];
  const key = randomBytes(spec.keyLength);
  const iv = randomBytes(spec.ivLength);
  const ciphertext = encrypt(cipher, key, iv, content);
  const ris = recipients.map((r) => recipientInfo(r, key, transport));
  const env = new EnvelopedData({
    version: CMSVersion.v0,
    recipientInfos: new RecipientInfos(ris),
    encryptedContentInfo: new EncryptedContentInfo({
      contentType: OID.data,
      contentEncryptionAlgorithm: new ContentEncryptionAlgorithmIdentifier({
        algorithm: spec.oid,
        parameters: AsnConvert.serialize(new OctetString(iv)),
      }),
      encryptedContent: new EncryptedContent({ value: new OctetString(ciphertext) }),
    }),
  });
  return new Uint8Array(
    AsnConvert.serialize(
      new ContentInfo({ contentType: OID.envelopedData, content: AsnConvert.serialize(env) }),
    ),
  );
}

/** The content encrypted with `cipher` (single DES through node-forge: Node 20 has no DES-CBC). */
function encrypt(cipher: ContentCipher, key: Buffer, iv: Buffer, content: Uint8Array): Buffer {
  if (cipher === 'DES-CBC') {
    const c = forge.cipher.createCipher('DES-CBC', forge.util.createBuffer(key.toString('binary')));
    c.start({ iv: forge.util.createBuffer(iv.toString('binary')) });
    c.update(forge.util.createBuffer(Buffer.from(content).toString('binary')));
    c.finish();
    return Buffer.from(c.output.getBytes(), 'binary');
  }
  const c = createCipheriv(CIPHERS[cipher].node, key, iv);
  return Buffer.concat([c.update(content), c.final()]);
}

/** KeyTransRecipientInfo (RFC 5652 §6.2.1): the content key wrapped to one recipient's RSA key. */
function recipientInfo(r: Certificate, key: Buffer, transport: 'RSA1_5' | 'RSA-OAEP'): RecipientInfo {
  const pub = createPublicKey({
    key: Buffer.from(AsnConvert.serialize(r.tbsCertificate.subjectPublicKeyInfo)),
    format: 'der',
    type: 'spki',
  });
  const wrapped = publicEncrypt(
    transport === 'RSA1_5'
      ? { key: pub, padding: constants.RSA_PKCS1_PADDING }
      : { key: pub, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' },
    key,
  );
  return new RecipientInfo({
    ktri: new KeyTransRecipientInfo({
      version: CMSVersion.v0,
      rid: new RecipientIdentifier({ issuerAndSerialNumber: ias(r) }),
      keyEncryptionAlgorithm: new KeyEncryptionAlgorithmIdentifier({
        algorithm: transport === 'RSA1_5' ? OID.rsaEncryption : '1.2.840.113549.1.1.7',
        parameters: null,
      }),
      encryptedKey: new OctetString(wrapped),
    }),
  });
}

export interface CertRep {
  messageType: number;
  status: number;
  failInfo?: number;
  failInfoText?: string;
  transactionId: string;
  senderNonce: Uint8Array;
  recipientNonce: Uint8Array;
  signatureValid: boolean;
  signerSignatureOid: string;
  signerCertificates: X509Certificate[];
  /** The issued certificate(s) from the envelope (SUCCESS). */
  certificates: X509Certificate[];
  /** Content cipher of the reply envelope. */
  cipher?: ContentCipher;
}

/** Read a CertRep; the envelope is opened with the requester's key and certificate. */
export async function readCertRep(
  der: Uint8Array,
  requesterKey: KeyObject,
  requesterCert: Certificate,
): Promise<CertRep> {
  const msg = parsePkiMessage(der);
  const sd = AsnParser.parse(AsnParser.parse(der, ContentInfo).content, SignedData);
  const si = sd.signerInfos[0];
  if (!si) throw new Error('the CertRep has no SignerInfo');
  const get = (oid: string) => si.signedAttrs?.find((a) => a.attrType === oid)?.attrValues[0];
  const octets = (oid: string) => {
    const v = get(oid);
    return v ? new Uint8Array(AsnParser.parse(v, OctetString).buffer) : new Uint8Array(0);
  };
  const pkiStatus = get(OID.pkiStatus);
  if (!pkiStatus) throw new Error('the CertRep has no pkiStatus attribute');
  const status = Number(readString(pkiStatus));
  const fi = get(OID.failInfo);
  const fit = get(OID.failInfoText);
  const rep: CertRep = {
    messageType: msg.messageType,
    status,
    ...(fi ? { failInfo: Number(readString(fi)) } : {}),
    ...(fit ? { failInfoText: readString(fit) } : {}),
    transactionId: msg.transactionId,
    senderNonce: msg.senderNonce,
    recipientNonce: octets(OID.recipientNonce),
    signatureValid: msg.signatureValid,
    signerSignatureOid: si.signatureAlgorithm.algorithm,
    signerCertificates: x509Certificates(sd.certificates),
    certificates: [],
  };
  if (status === 0) {
    const opened = await openEnvelope(msg.envelope, requesterCert, new LocalKey(requesterKey, 'requester'));
    rep.cipher = opened.cipher;
    const inner = AsnParser.parse(AsnParser.parse(opened.content, ContentInfo).content, SignedData);
    rep.certificates = x509Certificates(inner.certificates);
  }
  return rep;
}

function x509Certificates(set: CertificateSet | undefined): X509Certificate[] {
  if (!set) return [];
  return set.flatMap((c) =>
    c.certificate ? [new X509Certificate(Buffer.from(AsnConvert.serialize(c.certificate)))] : [],
  );
}

export function issuerAndSerial(cert: Certificate): Uint8Array {
  return new Uint8Array(AsnConvert.serialize(ias(cert)));
}
