import { constants, createPublicKey, publicEncrypt } from 'node:crypto';
import { AsnConvert, AsnParser, OctetString } from '@peculiar/asn1-schema';
import {
  ContentInfo,
  EncryptedContent,
  EncryptedContentInfo,
  EnvelopedData,
  IssuerAndSerialNumber,
  KeyTransRecipientInfo,
  RecipientIdentifier,
  RecipientInfo,
  RecipientInfos,
} from '@peculiar/asn1-cms';
import { AlgorithmIdentifier, Certificate } from '@peculiar/asn1-x509';
import { badRequest } from '../errors.js';
import { CIPHERS, cipherByOid, decryptContent, encryptContent, type ContentCipher } from '../cms/ciphers.js';
import type { Decrypter, KeyTransportScheme } from '../keys/types.js';
import { OID } from './types.js';

const RSAES_OAEP = '1.2.840.113549.1.1.7';

export class EnvelopeError extends Error {
  override readonly name = 'EnvelopeError';
}

export interface OpenedEnvelope {
  readonly content: Uint8Array;
  readonly cipher: ContentCipher;
}

/**
 * Open the pkcsPKIEnvelope (RFC 8894 §3.2.2) with our key. Several KeyTransRecipientInfos are
 * allowed (a client that got [RA, CA] may encrypt to both): ours is picked by issuer+serial.
 * A padding or decryption failure throws EnvelopeError, which the caller answers with a signed
 * FAILURE (badMessageCheck); implicit rejection in the Decrypter keeps that indistinguishable
 * from any other decryption failure.
 */
export async function openEnvelope(
  envelopeDer: Uint8Array,
  recipientCert: Certificate,
  decrypter: Decrypter,
): Promise<OpenedEnvelope> {
  let env: EnvelopedData;
  try {
    const ci = AsnParser.parse(envelopeDer, ContentInfo);
    if (ci.contentType !== OID.envelopedData) throw new Error(`contentType ${ci.contentType}`);
    env = AsnParser.parse(ci.content, EnvelopedData);
  } catch (e) {
    throw badRequest('the pkcsPKIEnvelope is not a CMS EnvelopedData structure', e);
  }
  const eci = env.encryptedContentInfo;
  const cipher = cipherByOid(eci.contentEncryptionAlgorithm.algorithm);
  if (!cipher) throw new EnvelopeError(`unsupported content cipher ${eci.contentEncryptionAlgorithm.algorithm}`);
  const params = eci.contentEncryptionAlgorithm.parameters;
  if (!params) throw new EnvelopeError('the content cipher has no IV');
  const iv = new Uint8Array(AsnParser.parse(params, OctetString).buffer);

  const ktri = pickRecipient(env, recipientCert);
  if (!ktri) throw new EnvelopeError('the request is not encrypted to this server');
  const scheme: KeyTransportScheme =
    ktri.keyEncryptionAlgorithm.algorithm === RSAES_OAEP ? 'RSA-OAEP' : 'RSA1_5';
  const cek = await decrypter.unwrapKey(new Uint8Array(ktri.encryptedKey.buffer), scheme, CIPHERS[cipher].keyLength);
  const enc = eci.encryptedContent;
  const ciphertext = encryptedBytes(enc);
  try {
    return { content: decryptContent(cipher, cek, iv, ciphertext), cipher };
  } catch {
    throw new EnvelopeError('the pkcsPKIEnvelope cannot be decrypted');
  }
}

function pickRecipient(env: EnvelopedData, ours: Certificate): KeyTransRecipientInfo | undefined {
  const ktris = env.recipientInfos.flatMap((r) => (r.ktri ? [r.ktri] : []));
  const ourIas = Buffer.from(
    AsnConvert.serialize(
      new IssuerAndSerialNumber({ issuer: ours.tbsCertificate.issuer, serialNumber: ours.tbsCertificate.serialNumber }),
    ),
  );
  const match = ktris.find(
    (k) =>
      k.rid.issuerAndSerialNumber !== undefined &&
      Buffer.from(AsnConvert.serialize(k.rid.issuerAndSerialNumber)).equals(ourIas),
  );
  // Some clients name the recipient by subjectKeyIdentifier or imprecisely: with one recipient, try it.
  return match ?? (ktris.length === 1 ? ktris[0] : undefined);
}

function encryptedBytes(enc: EncryptedContent | undefined): Uint8Array {
  if (!enc) throw new EnvelopeError('the pkcsPKIEnvelope has no encrypted content');
  if (enc.value) return new Uint8Array(enc.value.buffer);
  if (enc.constructedValue) return Buffer.concat(enc.constructedValue.map((o) => new Uint8Array(o.buffer)));
  throw new EnvelopeError('the pkcsPKIEnvelope has no encrypted content');
}

/**
 * Build the reply's pkcsPKIEnvelope: `content` encrypted with `cipher` (never single DES),
 * the content key wrapped with RSAES-PKCS1-v1_5 to the requester's certificate (the request
 * signer's certificate, RFC 8894 §3.3.2; for strongSwan's new-key RenewalReq that is the OLD
 * certificate).
 */
export function sealEnvelope(
  content: Uint8Array,
  recipient: Certificate,
  cipher: Exclude<ContentCipher, 'DES-CBC'>,
): Uint8Array {
  const { key, algorithm, ciphertext } = encryptContent(cipher, content);
  const spki = AsnConvert.serialize(recipient.tbsCertificate.subjectPublicKeyInfo);
  const pub = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  const wrapped = publicEncrypt({ key: pub, padding: constants.RSA_PKCS1_PADDING }, key);
  const env = new EnvelopedData({
    version: 0,
    recipientInfos: new RecipientInfos([
      new RecipientInfo({
        ktri: new KeyTransRecipientInfo({
          version: 0,
          rid: new RecipientIdentifier({
            issuerAndSerialNumber: new IssuerAndSerialNumber({
              issuer: recipient.tbsCertificate.issuer,
              serialNumber: recipient.tbsCertificate.serialNumber,
            }),
          }),
          keyEncryptionAlgorithm: new AlgorithmIdentifier({ algorithm: OID.rsaEncryption, parameters: null }),
          encryptedKey: new OctetString(wrapped),
        }),
      }),
    ]),
    encryptedContentInfo: new EncryptedContentInfo({
      contentType: OID.data,
      contentEncryptionAlgorithm: algorithm,
      encryptedContent: new EncryptedContent({ value: new OctetString(ciphertext) }),
    }),
  });
  return new Uint8Array(
    AsnConvert.serialize(new ContentInfo({ contentType: OID.envelopedData, content: AsnConvert.serialize(env) })),
  );
}
