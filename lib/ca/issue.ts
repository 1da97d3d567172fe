import { createHash, X509Certificate } from 'node:crypto';
import { AsnConvert, AsnParser } from '@peculiar/asn1-schema';
import {
  Certificate,
  Extension,
  Extensions,
  Name,
  SubjectAlternativeName,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
  id_ce_subjectAltName,
} from '@peculiar/asn1-x509';
import type { KeyUsageName } from '../config/core.js';
import type { ParsedCsr } from '../csr/parse.js';
import { verifyWithSpki } from '../csr/parse.js';
import type { CaKeys, HashAlgorithm } from '../keys/types.js';
import { generalNameToString, nameToString } from '../x509/names.js';
import {
  authorityKeyIdentifier,
  basicConstraints,
  extendedKeyUsage,
  extension,
  keyIdentifier,
  keyUsage,
  subjectKeyIdentifier,
} from './extensions.js';
import { randomSerial, serialHex, signatureAlgorithm, signTbs } from './sign.js';

/** What an endpoint issues: validity, key usage and extended key usage. */
export interface IssuanceProfile {
  readonly validityDays: number;
  readonly keyUsage: readonly KeyUsageName[];
  readonly ekus: readonly string[];
}

export interface IssuedCertificate {
  readonly der: Uint8Array;
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

/**
 * The CA's issuing half: CSR + profile → signed end-entity certificate. Subject and SANs come
 * from the CSR; key usage, EKU and validity from the profile (never from the requester);
 * notBefore is backdated by the clock-skew setting (field notes #11: device clocks run late
 * during Autopilot/OOBE); serials are random (field notes #12).
 */
export class CertificateIssuer {
  readonly caCertificate: Certificate;
  readonly caName: string;
  private readonly caSubject: Name;
  private readonly caSki: Uint8Array;
  private readonly caSpki: Uint8Array;

  constructor(
    private readonly ca: CaKeys,
    private readonly options: { readonly clockSkewMinutes: number; readonly hash?: HashAlgorithm },
  ) {
    this.caCertificate = AsnParser.parse(ca.certificateDer, Certificate);
    this.caSubject = this.caCertificate.tbsCertificate.subject;
    this.caName = nameToString(this.caSubject);
    this.caSpki = new Uint8Array(AsnConvert.serialize(this.caCertificate.tbsCertificate.subjectPublicKeyInfo));
    this.caSki = keyIdentifier(this.caSpki);
  }

  async issue(csr: ParsedCsr, profile: IssuanceProfile, now: Date = new Date()): Promise<IssuedCertificate> {
    const hash = this.options.hash ?? 'SHA-256';
    const notBefore = new Date(now.getTime() - this.options.clockSkewMinutes * 60_000);
    const caNotAfter = this.caCertificate.tbsCertificate.validity.notAfter.getTime();
    // RFC 5280 §6.1: a certificate outliving its issuer fails path validation after that date.
    const notAfter = new Date(Math.min(now.getTime() + profile.validityDays * 86_400_000, caNotAfter.getTime()));
    const extensions: Extension[] = [
      basicConstraints(false),
      ...(profile.keyUsage.length > 0 ? [keyUsage(profile.keyUsage)] : []),
      ...(profile.ekus.length > 0 ? [extendedKeyUsage(profile.ekus)] : []),
      subjectKeyIdentifier(csr.spki),
      authorityKeyIdentifier(this.caSki),
    ];
    const subjectEmpty = csr.subject.length === 0;
    if (csr.sans.length > 0) {
      // RFC 5280 §4.2.1.6: critical when the subject is empty.
      extensions.push(extension(id_ce_subjectAltName, subjectEmpty, new SubjectAlternativeName([...csr.sans])));
    }
    const tbs = new TBSCertificate({
      version: Version.v3,
      serialNumber: randomSerial().buffer as ArrayBuffer,
      signature: signatureAlgorithm(this.ca.signer.keyType, hash),
      issuer: this.caSubject,
      validity: new Validity({ notBefore, notAfter }),
      subject: csr.subject,
      subjectPublicKeyInfo: AsnParser.parse(csr.spki, SubjectPublicKeyInfo),
      extensions: new Extensions(extensions),
    });
    const der = await signTbs(tbs, this.ca.signer, hash);
    return describe(der, AsnParser.parse(der, Certificate));
  }

  /** True when `cert` was signed by this CA's key and names it as issuer. */
  issuedByUs(cert: Certificate): boolean {
    const issuer = Buffer.from(AsnConvert.serialize(cert.tbsCertificate.issuer));
    if (!issuer.equals(Buffer.from(AsnConvert.serialize(this.caSubject)))) return false;
    const tbs = new Uint8Array(AsnConvert.serialize(cert.tbsCertificate));
    return verifyWithSpki(
      this.caSpki,
      cert.signatureAlgorithm.algorithm,
      cert.signatureAlgorithm.parameters ?? null,
      tbs,
      new Uint8Array(cert.signatureValue),
    );
  }
}

export function describe(der: Uint8Array, cert: Certificate): IssuedCertificate {
  const tbs = cert.tbsCertificate;
  const sanExt = tbs.extensions?.find((e) => e.extnID === id_ce_subjectAltName);
  const sans = sanExt
    ? AsnParser.parse(sanExt.extnValue.buffer, SubjectAlternativeName).map(generalNameToString)
    : [];
  return {
    der,
    certificate: cert,
    serialNumber: serialHex(tbs.serialNumber),
    thumbprintSha1: createHash('sha1').update(der).digest('hex').toUpperCase(),
    thumbprintSha256: createHash('sha256').update(der).digest('hex').toUpperCase(),
    subject: nameToString(tbs.subject),
    sans,
    issuer: nameToString(tbs.issuer),
    notBefore: tbs.validity.notBefore.getTime(),
    notAfter: tbs.validity.notAfter.getTime(),
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
