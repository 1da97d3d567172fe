import { constants, publicEncrypt } from 'node:crypto';
import type { Certificate } from '@peculiar/asn1-x509';
import {
  BerError,
  isContext,
  isUniversal,
  kid,
  kids,
  octets,
  oid,
  parseBer,
  raw,
  type Ber,
} from '../cms/ber.js';
import {
  algorithmWithNull,
  explicit,
  implicitPrimitive,
  integer,
  objectIdentifier,
  octetString,
  seq,
  set,
} from '../cms/der.js';
import { CIPHERS, cipherByOid, decryptContent, encryptContent, type ContentCipher } from '../cms/ciphers.js';
import type { ComparedValue } from '../audit/event.js';
import { badRequest } from '../errors.js';
import { canonicalSerialHex } from '../x509/cert-view.js';
import { nameDerToString } from '../x509/names.js';
import type { Decrypter, KeyTransportScheme } from '../keys/types.js';
import { asView } from '../x509/as-view.js';
import type { CertView } from '../x509/cert-view.js';
import { publicKeyFromSpki } from '../x509/public-keys.js';
import { OID } from './types.js';

const RSAES_OAEP = '1.2.840.113549.1.1.7';

/** Why an envelope cannot be opened (catalogue codes), with what the parser saw. */
export type EnvelopeFailure = 'cipher-not-supported' | 'envelope-recipient-mismatch' | 'envelope-invalid';

export class EnvelopeError extends Error {
  override readonly name = 'EnvelopeError';
  constructor(
    message: string,
    readonly reason: EnvelopeFailure = 'envelope-invalid',
    readonly compared: readonly ComparedValue[] = [],
  ) {
    super(message);
  }
}

/**
 * The content key was unwrapped (or substituted: implicit rejection) and the content did not
 * decrypt. The caller must answer it exactly as it answers content that decrypts to garbage.
 */
export class EnvelopeContentError extends EnvelopeError {}

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
export function openEnvelope(
  envelopeDer: Uint8Array,
  recipient: Certificate | CertView,
  decrypter: Decrypter,
): Promise<OpenedEnvelope> {
  return openEnvelopeFor(envelopeDer, [{ certificate: asView(recipient), decrypter }]);
}

/** A certificate we can be addressed by, and the key that unwraps for it. */
export interface EnvelopeRecipient {
  readonly certificate: CertView;
  readonly decrypter: Decrypter;
}

/**
 * Open the envelope with whichever of our keys it is addressed to (RA mode: the current RA
 * certificate, an older one during its overlap, the CA certificate), picked by
 * issuerAndSerialNumber (RFC 8894 §3.2.2, RFC 5652 §6.2.1).
 */
export async function openEnvelopeFor(
  envelopeDer: Uint8Array,
  recipients: readonly EnvelopeRecipient[],
): Promise<OpenedEnvelope> {
  let parsed: { ktris: Ber[]; cipherOid: string; iv: Uint8Array; ciphertext: Uint8Array };
  try {
    parsed = readEnvelope(envelopeDer);
  } catch (e) {
    throw badRequest('the pkcsPKIEnvelope is not a CMS EnvelopedData structure', e);
  }
  const cipher = cipherByOid(parsed.cipherOid);
  if (!cipher) {
    throw new EnvelopeError(`unsupported content cipher ${parsed.cipherOid}`, 'cipher-not-supported', [
      { name: 'contentCipher', actual: parsed.cipherOid, required: Object.keys(CIPHERS).join(' | ') },
    ]);
  }
  // A wrong recipient is the commonest MDM misconfiguration (a profile holding another CA
  // certificate): say which one the client used.
  const recipientFacts = (): ComparedValue[] => [
    {
      name: 'recipients',
      actual: parsed.ktris.map(recipientName).join('; '),
      required: recipients.map((r) => describeCert(r.certificate)).join(' | '),
    },
  ];
  const picked = pickRecipient(parsed.ktris, recipients);
  if (!picked) {
    throw new EnvelopeError(
      'the request is not encrypted to this server',
      'envelope-recipient-mismatch',
      recipientFacts(),
    );
  }
  const { ktri, decrypter } = picked;
  const scheme: KeyTransportScheme = oid(kid(kid(ktri, 2), 0)) === RSAES_OAEP ? 'RSA-OAEP' : 'RSA1_5';
  const cek = await decrypter.unwrapKey(octets(kid(ktri, 3)), scheme, CIPHERS[cipher].keyLength);
  try {
    return { content: decryptContent(cipher, cek, parsed.iv, parsed.ciphertext), cipher };
  } catch {
    // Answered like any other unreadable content (RFC 3218 §2.3.2); only the audit event says
    // whether the recipient the client chose was named as ours.
    const named = recipients.some((r) => isNamed(ktri, r.certificate));
    throw new EnvelopeContentError(
      named ? 'the pkcsPKIEnvelope cannot be decrypted' : 'the request is not encrypted to this server',
      named ? 'envelope-invalid' : 'envelope-recipient-mismatch',
      named ? [{ name: 'contentCipher', actual: cipher }] : recipientFacts(),
    );
  }
}

/** The recipient a KeyTransRecipientInfo names: `issuer DN #serial`, or its subjectKeyIdentifier. */
function recipientName(ktri: Ber): string {
  const rid = kids(ktri)[1];
  if (!rid) return '(none)';
  if (!isUniversal(rid, 16)) return `subjectKeyIdentifier ${Buffer.from(octets(rid)).toString('hex')}`;
  const [i, s] = kids(rid);
  if (!i || !s) return '(unreadable)';
  try {
    return `${nameDerToString(raw(i))} #${canonicalSerialHex(octets(s))}`;
  } catch {
    return '(unreadable)';
  }
}

function describeCert(c: CertView): string {
  return `${nameDerToString(c.issuer)} #${c.serialHex}`;
}

function isNamed(ktri: Ber, ours: CertView): boolean {
  const rid = kids(ktri)[1];
  if (!rid || !isUniversal(rid, 16)) return false;
  const [i, s] = kids(rid);
  return (
    !!i &&
    !!s &&
    Buffer.from(raw(i)).equals(Buffer.from(ours.issuer)) &&
    Buffer.from(octets(s)).equals(Buffer.from(ours.serial))
  );
}

/**
 * The content cipher a pkcsPKIEnvelope names, read without decrypting it (CertPoll answers in
 * the client's cipher family but needs nothing else from the envelope). Undefined when absent.
 */
export function envelopeCipher(envelopeDer: Uint8Array): ContentCipher | undefined {
  try {
    return cipherByOid(readEnvelope(envelopeDer).cipherOid);
  } catch {
    return undefined;
  }
}

function readEnvelope(der: Uint8Array): {
  ktris: Ber[];
  cipherOid: string;
  iv: Uint8Array;
  ciphertext: Uint8Array;
} {
  const ci = parseBer(der);
  if (oid(kid(ci, 0)) !== OID.envelopedData) throw new BerError('not EnvelopedData');
  const env = kid(kid(ci, 1), 0);
  const parts = kids(env);
  const at = isContext(kid(env, 1), 0) ? 2 : 1; // [0] originatorInfo is optional
  const ktris = kids(parts[at]).filter((r) => isUniversal(r, 16));
  const eci = kid(env, at + 1);
  const alg = kid(eci, 1);
  const params = kids(alg)[1];
  const enc = kids(eci)[2];
  if (!params) throw new BerError('the content cipher has no IV');
  if (!enc) throw new BerError('no encrypted content');
  return { ktris, cipherOid: oid(kid(alg, 0)), iv: octets(params), ciphertext: octets(enc) };
}

function pickRecipient(
  ktris: Ber[],
  ours: readonly EnvelopeRecipient[],
): { ktri: Ber; decrypter: Decrypter } | undefined {
  for (const r of ours) {
    const ktri = ktris.find((k) => isNamed(k, r.certificate));
    if (ktri) return { ktri, decrypter: r.decrypter };
  }
  // Some clients name the recipient by subjectKeyIdentifier or imprecisely: with one recipient,
  // try it with our preferred key.
  const [only] = ktris;
  const [first] = ours;
  return ktris.length === 1 && only && first ? { ktri: only, decrypter: first.decrypter } : undefined;
}

/** IssuerAndSerialNumber ::= SEQUENCE { issuer Name, serialNumber INTEGER } */
export function issuerAndSerial(c: CertView): Uint8Array {
  return seq(c.issuer, integer(c.serial));
}

/**
 * Build the reply's pkcsPKIEnvelope: `content` encrypted with `cipher` (never single DES),
 * the content key wrapped with RSAES-PKCS1-v1_5 to the requester's certificate (the request
 * signer's certificate, RFC 8894 §3.3.2; for strongSwan's new-key RenewalReq that is the OLD
 * certificate).
 */
export function sealEnvelope(
  content: Uint8Array,
  recipient: Certificate | CertView,
  cipher: Exclude<ContentCipher, 'DES-CBC'>,
): Uint8Array {
  const r = asView(recipient);
  const { key, algorithmOid, iv, ciphertext } = encryptContent(cipher, content);
  const pub = publicKeyFromSpki(r.spki);
  const wrapped = publicEncrypt({ key: pub, padding: constants.RSA_PKCS1_PADDING }, key);
  const ktri = seq(
    integer(0),
    issuerAndSerial(r),
    algorithmWithNull(OID.rsaEncryption),
    octetString(wrapped),
  );
  const eci = seq(
    objectIdentifier(OID.data),
    seq(objectIdentifier(algorithmOid), octetString(iv)),
    implicitPrimitive(0, ciphertext),
  );
  const env = seq(integer(0), set(ktri), eci);
  return seq(objectIdentifier(OID.envelopedData), explicit(0, env));
}
