import { createHash, createPublicKey, verify as cryptoVerify, constants, type KeyObject } from 'node:crypto';
import { AsnConvert, AsnParser } from '@peculiar/asn1-schema';
import { CertificationRequest } from '@peculiar/asn1-csr';
import { ChallengePassword, ExtensionRequest, id_pkcs9_at_challengePassword, id_pkcs9_at_extensionRequest } from '@peculiar/asn1-pkcs9';
import { RsaSaPssParams } from '@peculiar/asn1-rsa';
import {
  Extension,
  GeneralName,
  Name,
  SubjectAlternativeName,
  SubjectPublicKeyInfo,
  id_ce_subjectAltName,
} from '@peculiar/asn1-x509';
import { badRequest } from '../errors.js';
import { nameToString } from '../x509/names.js';
import { ECParameters } from '@peculiar/asn1-ecc';

export type KeyInfo =
  | { readonly type: 'RSA'; readonly bits: number }
  | { readonly type: 'EC'; readonly curve: 'P-256' | 'P-384' | 'P-521' | string }
  | { readonly type: 'other'; readonly oid: string };

/** A PKCS#10 request, parsed once; everything policy and issuance need. */
export interface ParsedCsr {
  readonly der: Uint8Array;
  /** SHA-256 (hex) of `der`. */
  readonly sha256: string;
  readonly subject: Name;
  readonly subjectString: string;
  /** DER SubjectPublicKeyInfo of the requested key. */
  readonly spki: Uint8Array;
  readonly publicKeySha256: string;
  readonly key: KeyInfo;
  readonly challengePassword: string | undefined;
  /** Requested extensions (extensionRequest attribute), in request order. */
  readonly extensions: readonly Extension[];
  /** The requested subjectAltName entries. */
  readonly sans: readonly GeneralName[];
  readonly signatureAlgorithm: string;
  /** Proof of possession: the CSR's self-signature verifies with its own public key. */
  verifySignature(): boolean;
}

const EC_CURVES: Record<string, string> = {
  '1.2.840.10045.3.1.7': 'P-256',
  '1.3.132.0.34': 'P-384',
  '1.3.132.0.35': 'P-521',
};

export function parseCsr(der: Uint8Array): ParsedCsr {
  let req: CertificationRequest;
  try {
    req = AsnParser.parse(der, CertificationRequest);
  } catch (e) {
    throw badRequest('the certificate request is not a valid PKCS#10 structure', e);
  }
  const info = req.certificationRequestInfo;
  const spki = new Uint8Array(AsnConvert.serialize(info.subjectPKInfo));
  let challengePassword: string | undefined;
  const extensions: Extension[] = [];
  for (const attr of info.attributes) {
    if (attr.type === id_pkcs9_at_challengePassword && attr.values[0]) {
      challengePassword = readChallengePassword(attr.values[0]);
    } else if (attr.type === id_pkcs9_at_extensionRequest) {
      for (const v of attr.values) {
        try {
          extensions.push(...AsnParser.parse(v, ExtensionRequest));
        } catch (e) {
          throw badRequest('the extensionRequest attribute of the certificate request cannot be parsed', e);
        }
      }
    }
  }
  const sans: GeneralName[] = [];
  for (const ext of extensions) {
    if (ext.extnID === id_ce_subjectAltName) {
      try {
        sans.push(...AsnParser.parse(ext.extnValue, SubjectAlternativeName));
      } catch (e) {
        throw badRequest('the requested subjectAltName cannot be parsed', e);
      }
    }
  }
  const tbs = new Uint8Array(AsnConvert.serialize(info));
  const signature = new Uint8Array(req.signature);
  const sigAlg = req.signatureAlgorithm;
  return {
    der,
    sha256: createHash('sha256').update(der).digest('hex'),
    subject: info.subject,
    subjectString: nameToString(info.subject),
    spki,
    publicKeySha256: createHash('sha256').update(spki).digest('hex'),
    key: keyInfo(info.subjectPKInfo),
    challengePassword,
    extensions,
    sans,
    signatureAlgorithm: sigAlg.algorithm,
    verifySignature: () => verifyWithSpki(spki, sigAlg.algorithm, sigAlg.parameters ?? null, tbs, signature),
  };
}

/** challengePassword is a DirectoryString: PrintableString, UTF8String, BMPString (Windows), … */
function readChallengePassword(value: ArrayBuffer): string {
  try {
    return AsnParser.parse(value, ChallengePassword).toString();
  } catch (e) {
    throw badRequest('the challengePassword attribute cannot be parsed', e);
  }
}

export function keyInfo(spki: SubjectPublicKeyInfo): KeyInfo {
  const oid = spki.algorithm.algorithm;
  if (oid === '1.2.840.113549.1.1.1' || oid === '1.2.840.113549.1.1.10') {
    const k = createPublicKey({ key: Buffer.from(AsnConvert.serialize(spki)), format: 'der', type: 'spki' });
    return { type: 'RSA', bits: k.asymmetricKeyDetails?.modulusLength ?? 0 };
  }
  if (oid === '1.2.840.10045.2.1') {
    const params = spki.algorithm.parameters;
    const curveOid = params ? (AsnConvert.parse(params, ECParameters).namedCurve ?? '') : '';
    return { type: 'EC', curve: EC_CURVES[curveOid] ?? curveOid };
  }
  return { type: 'other', oid };
}

const HASH_BY_SIG_OID: Record<string, string> = {
  '1.2.840.113549.1.1.5': 'sha1',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.113549.1.1.14': 'sha224',
  '1.2.840.113549.1.1.4': 'md5',
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
    key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  } catch {
    return false;
  }
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
    if (!hash || hash === 'md5') return false;
    return cryptoVerify(hash, data, key, signature);
  } catch {
    return false;
  }
}
