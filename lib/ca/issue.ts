import { createHash, X509Certificate } from 'node:crypto';
import { AsnConvert, AsnParser } from '@peculiar/asn1-schema';
import { Certificate, SubjectAlternativeName, id_ce_subjectAltName } from '@peculiar/asn1-x509';
import {
  bitString,
  derTrue,
  explicit,
  integer,
  objectIdentifier,
  octetString,
  seq,
  x509Time,
} from '../cms/der.js';
import type { KeyUsageName } from '../config/core.js';
import type { ParsedCsr } from '../csr/parse.js';
import { verifyWithSpki } from '../csr/parse.js';
import type { CaKeys, HashAlgorithm } from '../keys/types.js';
import { asView } from '../x509/as-view.js';
import { certView, type CertView } from '../x509/cert-view.js';
import { generalNameToString, nameDerToString } from '../x509/names.js';
import {
  authorityInfoAccess,
  authorityKeyIdentifier,
  basicConstraints,
  crlDistributionPoints,
  extendedKeyUsage,
  issuerKeyIdentifier,
  keyUsage,
} from './extensions.js';
import { randomSerial, serialHex, signatureAlgorithm } from './sign.js';
import type { RevocationUrls } from './urls.js';

/** What an endpoint issues: validity, key usage and extended key usage. */
export interface IssuanceProfile {
  readonly validityDays: number;
  readonly keyUsage: readonly KeyUsageName[];
  readonly ekus: readonly string[];
  /**
   * Issue the key usage and extended key usage the CSR asks for, falling back to the profile's
   * when it asks for none. Only for endpoints where a trusted party has already checked the
   * request against its own profile (Intune validateRequest compares KU/EKU with the SCEP
   * profile: test matrix rows 11–13, 19–20).
   */
  readonly copyRequestedExtensions?: boolean;
}

export interface IssuedCertificate {
  readonly der: Uint8Array;
  /** The certificate as an @peculiar/asn1-x509 object (parsed on first use). */
  readonly certificate: Certificate;
  readonly serialNumber: string;
  readonly thumbprintSha1: string;
  readonly thumbprintSha256: string;
  readonly subject: string;
  readonly sans: readonly string[];
  readonly issuer: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

const SKI_OID = '2.5.29.14';

/**
 * The CA's issuing half: CSR + profile → signed end-entity certificate. Subject and SANs come
 * from the CSR; key usage, EKU and validity from the profile (never from the requester);
 * notBefore is backdated by the clock-skew setting (Windows devices' clocks can run late
 * during Autopilot/OOBE); serials are random (RFC 5280 §4.1.2.2, CA/B Forum BR §7.1).
 *
 * The TBSCertificate is assembled from encoded parts (the CSR's subject and key as received,
 * the CA's name and the profile's extensions encoded once) so an issuance costs one signature
 * and little else.
 */
export class CertificateIssuer {
  readonly caCertificate: Certificate;
  readonly ca: CertView;
  readonly caName: string;
  private readonly caSki: Uint8Array;
  private readonly sigAlg: Uint8Array;
  private readonly hash: HashAlgorithm;
  private readonly profileExtensions = new WeakMap<IssuanceProfile, EncodedProfile>();
  private readonly revocationExtensions: Uint8Array[];

  constructor(
    private readonly keys: CaKeys,
    private readonly options: {
      readonly clockSkewMinutes: number;
      readonly hash?: HashAlgorithm;
      /** AIA (OCSP, CA issuers) and CDP; none when the app has no public base URL. */
      readonly revocationUrls?: RevocationUrls | undefined;
    },
  ) {
    this.caCertificate = AsnParser.parse(keys.certificateDer, Certificate);
    this.ca = certView(keys.certificateDer);
    this.caName = nameDerToString(this.ca.subject);
    this.caSki = issuerKeyIdentifier(keys.certificateDer);
    this.hash = options.hash ?? 'SHA-256';
    this.sigAlg = new Uint8Array(AsnConvert.serialize(signatureAlgorithm(keys.signer.keyType, this.hash)));
    const urls = options.revocationUrls;
    this.revocationExtensions = urls
      ? [
          new Uint8Array(AsnConvert.serialize(authorityInfoAccess(urls.ocsp, urls.caIssuers))),
          new Uint8Array(AsnConvert.serialize(crlDistributionPoints(urls.crl))),
        ]
      : [];
  }

  async issue(csr: ParsedCsr, profile: IssuanceProfile, now: Date = new Date()): Promise<IssuedCertificate> {
    const notBefore = new Date(now.getTime() - this.options.clockSkewMinutes * 60_000);
    // RFC 5280 §6.1: a certificate outliving its issuer fails path validation after that date.
    const notAfter = new Date(
      Math.min(now.getTime() + profile.validityDays * 86_400_000, this.ca.notAfter.getTime()),
    );
    const serial = randomSerial();
    const extensions = [
      ...this.extensionsFor(profile, csr),
      extensionDer(SKI_OID, false, skiValue(csr.publicKeyBits)),
    ];
    if (csr.sanExtensionValue) {
      // RFC 5280 §4.2.1.6: critical when the subject is empty.
      extensions.push(extensionDer(id_ce_subjectAltName, csr.subjectEmpty, csr.sanExtensionValue));
    }
    const tbs = seq(
      explicit(0, integer(2)),
      integer(serial),
      this.sigAlg,
      this.ca.subject,
      seq(x509Time(truncateToSeconds(notBefore)), x509Time(truncateToSeconds(notAfter))),
      csr.subjectDer,
      csr.spki,
      explicit(3, seq(...extensions)),
    );
    const signature = await this.keys.signer.sign(tbs, this.hash);
    const der = seq(tbs, this.sigAlg, bitString(signature));
    let parsed: Certificate | undefined;
    return {
      der,
      get certificate(): Certificate {
        parsed ??= AsnParser.parse(der, Certificate);
        return parsed;
      },
      serialNumber: serialHex(serial),
      thumbprintSha1: createHash('sha1').update(der).digest('hex').toUpperCase(),
      thumbprintSha256: createHash('sha256').update(der).digest('hex').toUpperCase(),
      subject: csr.subjectString,
      sans: csr.sans.map(generalNameToString),
      issuer: this.caName,
      notBefore: truncateToSeconds(notBefore),
      notAfter: truncateToSeconds(notAfter),
    };
  }

  /** True when `cert` was signed by this CA's key and names it as issuer. */
  issuedByUs(cert: Certificate | CertView): boolean {
    const c = asView(cert);
    if (!Buffer.from(c.issuer).equals(Buffer.from(this.ca.subject))) return false;
    return verifyWithSpki(
      this.ca.spki,
      c.signatureOid,
      c.signatureParams?.slice().buffer ?? null,
      c.tbs,
      c.signature,
    );
  }

  /**
   * basicConstraints, key usage, EKU and AKI, encoded once per profile; with
   * copyRequestedExtensions the CSR's own key usage / EKU replace the profile's.
   */
  private extensionsFor(profile: IssuanceProfile, csr: ParsedCsr): Uint8Array[] {
    const p = this.encodedProfile(profile);
    const requested = (oid: string): Uint8Array | undefined => {
      if (!profile.copyRequestedExtensions) return undefined;
      const e = csr.extensions.find((x) => x.extnID === oid);
      return e ? extensionDer(oid, oid === KU_OID, new Uint8Array(e.extnValue.buffer)) : undefined;
    };
    // RFC 5480 §3: keyEncipherment and dataEncipherment are not for EC keys.
    const ku = requested(KU_OID) ?? (csr.key.type === 'EC' ? p.ecKeyUsage : p.keyUsage);
    const eku = requested(EKU_OID) ?? p.extendedKeyUsage;
    return [
      p.basicConstraints,
      ...(ku ? [ku] : []),
      ...(eku ? [eku] : []),
      p.authorityKeyIdentifier,
      ...this.revocationExtensions,
    ];
  }

  private encodedProfile(profile: IssuanceProfile): EncodedProfile {
    let p = this.profileExtensions.get(profile);
    if (!p) {
      const der = (e: unknown): Uint8Array => new Uint8Array(AsnConvert.serialize(e));
      const ecUsages = profile.keyUsage.filter((u) => u !== 'KeyEncipherment' && u !== 'DataEncipherment');
      p = {
        basicConstraints: der(basicConstraints(false)),
        keyUsage: profile.keyUsage.length > 0 ? der(keyUsage(profile.keyUsage)) : undefined,
        ecKeyUsage: ecUsages.length > 0 ? der(keyUsage(ecUsages)) : undefined,
        extendedKeyUsage: profile.ekus.length > 0 ? der(extendedKeyUsage(profile.ekus)) : undefined,
        authorityKeyIdentifier: der(authorityKeyIdentifier(this.caSki)),
      };
      this.profileExtensions.set(profile, p);
    }
    return p;
  }
}

interface EncodedProfile {
  readonly basicConstraints: Uint8Array;
  readonly keyUsage: Uint8Array | undefined;
  readonly ecKeyUsage: Uint8Array | undefined;
  readonly extendedKeyUsage: Uint8Array | undefined;
  readonly authorityKeyIdentifier: Uint8Array;
}

const KU_OID = '2.5.29.15';
const EKU_OID = '2.5.29.37';

/** Describe a stored certificate (replays) the way `issue` describes a new one. */
export function describe(
  der: Uint8Array,
  cert: Certificate = AsnParser.parse(der, Certificate),
): IssuedCertificate {
  const tbs = cert.tbsCertificate;
  const sanExt = tbs.extensions?.find((e) => e.extnID === id_ce_subjectAltName);
  const sans = sanExt
    ? AsnParser.parse(sanExt.extnValue.buffer, SubjectAlternativeName).map(generalNameToString)
    : [];
  const view = certView(der);
  return {
    der,
    certificate: cert,
    serialNumber: view.serialHex,
    thumbprintSha1: createHash('sha1').update(der).digest('hex').toUpperCase(),
    thumbprintSha256: createHash('sha256').update(der).digest('hex').toUpperCase(),
    subject: nameDerToString(view.subject),
    sans,
    issuer: nameDerToString(view.issuer),
    notBefore: view.notBefore,
    notAfter: view.notAfter,
  };
}

/** Fingerprints as MDM profiles ask for them (colon-free upper-case hex). */
export function fingerprints(der: Uint8Array): { sha256: string; sha1: string; subject: string } {
  const x = new X509Certificate(der);
  return {
    sha256: x.fingerprint256.replaceAll(':', ''),
    sha1: x.fingerprint.replaceAll(':', ''),
    subject: x.subject.split('\n').join(', '),
  };
}

function extensionDer(oid: string, critical: boolean, value: Uint8Array): Uint8Array {
  return critical
    ? seq(objectIdentifier(oid), derTrue, octetString(value))
    : seq(objectIdentifier(oid), octetString(value));
}

/** RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT STRING value. */
function skiValue(publicKeyBits: Uint8Array): Uint8Array {
  return octetString(createHash('sha1').update(publicKeyBits).digest());
}

function truncateToSeconds(d: Date): Date {
  return new Date(Math.floor(d.getTime() / 1000) * 1000);
}
