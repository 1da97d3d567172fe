import { constants, createHash, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { AsnParser } from '@peculiar/asn1-schema';
import {
  ExtensionRequest,
  id_pkcs9_at_challengePassword,
  id_pkcs9_at_extensionRequest,
} from '@peculiar/asn1-pkcs9';
import { RsaSaPssParams } from '@peculiar/asn1-rsa';
import {
  Extension,
  GeneralName,
  Name,
  SubjectAlternativeName,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  id_ce_subjectAltName,
} from '@peculiar/asn1-x509';
import { bits, isDerFramed, kid, kids, oid, parseBer, raw, text, type Ber } from '../cms/ber.js';
import { badRequest, isAppError } from '../errors.js';
import { nameDerToString } from '../x509/names.js';
import { publicKeyFromSpki } from '../x509/public-keys.js';

export type KeyInfo =
  | { readonly type: 'RSA'; readonly bits: number; readonly exponent: bigint }
  /** `curve`: 'P-256', 'P-384' or 'P-521', else the curve name Node reports (e.g. 'secp256k1'). */
  | { readonly type: 'EC'; readonly curve: string }
  | { readonly type: 'other'; readonly oid: string };

/** A PKCS#10 request, parsed once; everything policy and issuance need. */
export interface ParsedCsr {
  readonly der: Uint8Array;
  /** SHA-256 (hex) of `der`. */
  readonly sha256: string;
  /** The subject as an @peculiar/asn1-x509 Name (parsed on first use) and as encoded. */
  readonly subject: Name;
  readonly subjectDer: Uint8Array;
  readonly subjectEmpty: boolean;
  readonly subjectString: string;
  /** DER SubjectPublicKeyInfo of the requested key. */
  readonly spki: Uint8Array;
  /** The subjectPublicKey BIT STRING contents (for the SubjectKeyIdentifier). */
  readonly publicKeyBits: Uint8Array;
  readonly publicKeySha256: string;
  readonly key: KeyInfo;
  readonly challengePassword: string | undefined;
  /** Requested extensions (extensionRequest attribute), in request order. */
  readonly extensions: readonly Extension[];
  /** The requested subjectAltName entries. */
  readonly sans: readonly GeneralName[];
  /** The requested subjectAltName extnValue as encoded, copied into the certificate. */
  readonly sanExtensionValue: Uint8Array | undefined;
  readonly signatureAlgorithm: string;
  /** Proof of possession: the CSR's self-signature verifies with its own public key. */
  verifySignature(): boolean;
}

const CURVES: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };

export function parseCsr(der: Uint8Array): ParsedCsr {
  try {
    return parse(der);
  } catch (e) {
    if (isAppError(e)) throw e;
    throw badRequest('the certificate request is not a valid PKCS#10 structure', e);
  }
}

function parse(der: Uint8Array): ParsedCsr {
  const req = parseBer(der);
  const info = kid(req, 0);
  const sigAlg = kid(req, 1);
  const signature = bits(kid(req, 2));
  const subjectDer = raw(kid(info, 1));
  const spkiNode = kid(info, 2);
  const spki = raw(spkiNode);
  const { challengePassword, extensions } = readAttributes(kids(info)[3]);
  requireDer(kid(info, 1), spkiNode, extensions);
  const sanExt = extensions.find((e) => e.extnID === id_ce_subjectAltName);
  const sans = sanExt ? requestedSans(sanExt) : [];
  const publicKey = publicKeyOrUndefined(spki);
  const tbs = raw(info);
  const sigOid = oid(kid(sigAlg, 0));
  const sigParams = kids(sigAlg)[1];
  let subject: Name | undefined;
  return {
    der,
    sha256: createHash('sha256').update(der).digest('hex'),
    get subject(): Name {
      subject ??= AsnParser.parse(subjectDer, Name);
      return subject;
    },
    subjectDer,
    subjectEmpty: kids(kid(info, 1)).length === 0,
    subjectString: nameDerToString(subjectDer),
    spki,
    publicKeyBits: bits(kid(spkiNode, 1)),
    publicKeySha256: createHash('sha256').update(spki).digest('hex'),
    key: keyInfo(publicKey, oid(kid(kid(spkiNode, 0), 0))),
    challengePassword,
    extensions,
    sans,
    sanExtensionValue: sanExt ? new Uint8Array(sanExt.extnValue.buffer) : undefined,
    signatureAlgorithm: sigOid,
    verifySignature: () =>
      publicKey !== undefined &&
      verifyWithKey(publicKey, sigOid, sigParams ? raw(sigParams).slice().buffer : null, tbs, signature),
  };
}

/** Requested extensions a certificate may carry as sent: SAN; key usage and EKU where copied. */
const COPIED_EXTENSIONS = new Set([id_ce_subjectAltName, id_ce_keyUsage, id_ce_extKeyUsage]);

/**
 * What the certificate copies from the request as encoded (subject, key, the extensions above)
 * is DER (RFC 5280 §4.1): the BER reader and the signature accept BER, which would otherwise end
 * up signed in the certificate, for strict parsers to refuse and lenient ones to read otherwise.
 */
function requireDer(subject: Ber, spki: Ber, extensions: readonly Extension[]): void {
  if (!isDerFramed(subject)) throw badRequest('the subject of the certificate request is not DER');
  if (!isDerFramed(spki)) throw badRequest('the public key of the certificate request is not DER');
  for (const e of extensions) {
    if (!COPIED_EXTENSIONS.has(e.extnID)) continue;
    let der = false;
    try {
      der = isDerFramed(parseBer(new Uint8Array(e.extnValue.buffer)));
    } catch {
      // not one element: not DER either
    }
    if (!der) throw badRequest(`the requested extension ${e.extnID} is not DER`);
  }
}

/** The CSR attributes (RFC 2986 §4.1) this CA reads: challengePassword and extensionRequest. */
function readAttributes(attrs: Ber | undefined): {
  challengePassword: string | undefined;
  extensions: Extension[];
} {
  let challengePassword: string | undefined;
  const extensions: Extension[] = [];
  for (const a of attrs ? kids(attrs) : []) {
    const type = oid(kid(a, 0));
    const values = kids(kid(a, 1));
    if (type === id_pkcs9_at_challengePassword && values[0]) {
      // DirectoryString: PrintableString (micromdm), UTF8String (strongSwan), BMPString (Windows).
      challengePassword = text(values[0]);
    } else if (type === id_pkcs9_at_extensionRequest) {
      for (const v of values) {
        try {
          extensions.push(...AsnParser.parse(raw(v), ExtensionRequest));
        } catch (e) {
          throw badRequest('the extensionRequest attribute of the certificate request cannot be parsed', e);
        }
      }
    }
  }
  return { challengePassword, extensions };
}

/**
 * The requested subjectAltName, which the certificate carries as encoded: at least one name
 * (RFC 5280 §4.2.1.6: GeneralNames is SIZE (1..MAX)), the IA5String names (dNSName,
 * rfc822Name, URI) printable ASCII, so that no NUL or line break hides part of a name from a
 * pattern or a relying party, and IP addresses of 4 or 16 octets.
 */
function requestedSans(sanExt: Extension): GeneralName[] {
  let names: GeneralName[];
  try {
    names = [...AsnParser.parse(sanExt.extnValue.buffer, SubjectAlternativeName)];
  } catch (e) {
    throw badRequest('the requested subjectAltName cannot be parsed', e);
  }
  if (names.length === 0) throw badRequest('the requested subjectAltName has no names');
  for (const gn of names) {
    const ia5 = gn.dNSName ?? gn.rfc822Name ?? gn.uniformResourceIdentifier;
    if (ia5 !== undefined && /[^\x20-\x7e]/.test(ia5))
      throw badRequest('a requested subjectAltName has characters other than printable ASCII');
    // 4 or 16 octets; the schema writes any other length as something isIP refuses.
    if (gn.iPAddress !== undefined && isIP(gn.iPAddress) === 0)
      throw badRequest('a requested subjectAltName IP address is neither 4 nor 16 octets');
  }
  return names;
}

/** The requested key, or undefined when Node cannot import it (the CSR then fails proof of possession). */
function publicKeyOrUndefined(spki: Uint8Array): KeyObject | undefined {
  try {
    return publicKeyFromSpki(spki);
  } catch {
    return undefined;
  }
}

function keyInfo(key: KeyObject | undefined, algorithmOid: string): KeyInfo {
  if (key?.asymmetricKeyType === 'rsa' || key?.asymmetricKeyType === 'rsa-pss') {
    const details = key.asymmetricKeyDetails;
    return { type: 'RSA', bits: details?.modulusLength ?? 0, exponent: details?.publicExponent ?? 0n };
  }
  if (key?.asymmetricKeyType === 'ec') {
    const named = key.asymmetricKeyDetails?.namedCurve ?? '';
    return { type: 'EC', curve: CURVES[named] ?? named };
  }
  return { type: 'other', oid: algorithmOid };
}

const HASH_BY_SIG_OID: Record<string, string> = {
  '1.2.840.113549.1.1.5': 'sha1',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.113549.1.1.14': 'sha224',
  '1.2.840.10045.4.1': 'sha1',
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
};
const HASH_BY_OID: Record<string, string> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

/** Verify a signature made with the key in `spki`: PKCS#1 v1.5, RSASSA-PSS or ECDSA. */
export function verifyWithSpki(
  spki: Uint8Array,
  sigOid: string,
  params: ArrayBuffer | null,
  data: Uint8Array,
  signature: Uint8Array,
): boolean {
  let key: KeyObject;
  try {
    key = publicKeyFromSpki(spki);
  } catch {
    return false;
  }
  return verifyWithKey(key, sigOid, params, data, signature);
}

function verifyWithKey(
  key: KeyObject,
  sigOid: string,
  params: ArrayBuffer | null,
  data: Uint8Array,
  signature: Uint8Array,
): boolean {
  try {
    if (sigOid === '1.2.840.113549.1.1.10') {
      const p = params ? AsnParser.parse(params, RsaSaPssParams) : new RsaSaPssParams();
      const hash = HASH_BY_OID[p.hashAlgorithm.algorithm];
      if (!hash) return false;
      return cryptoVerify(
        hash,
        data,
        { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: p.saltLength },
        signature,
      );
    }
    const hash = HASH_BY_SIG_OID[sigOid];
    if (!hash) return false;
    return cryptoVerify(hash, data, key, signature);
  } catch {
    return false;
  }
}
