import { createHash } from 'node:crypto';
import { AsnConvert, AsnParser, OctetString } from '@peculiar/asn1-schema';
import {
  AccessDescription,
  AuthorityInfoAccessSyntax,
  AuthorityKeyIdentifier,
  BasicConstraints,
  CRLDistributionPoints,
  Certificate,
  DistributionPoint,
  DistributionPointName,
  ExtendedKeyUsage,
  Extension,
  GeneralName,
  KeyIdentifier,
  KeyUsage,
  KeyUsageFlags,
  SubjectKeyIdentifier,
  SubjectPublicKeyInfo,
  id_ce_authorityKeyIdentifier,
  id_ce_basicConstraints,
  id_ce_cRLDistributionPoints,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  id_ce_subjectKeyIdentifier,
  id_pe_authorityInfoAccess,
} from '@peculiar/asn1-x509';
import type { KeyUsageName } from '../config/core.js';

export function extension(extnID: string, critical: boolean, value: unknown): Extension {
  return new Extension({ extnID, critical, extnValue: new OctetString(AsnConvert.serialize(value)) });
}

/** RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT STRING value. */
export function keyIdentifier(spkiDer: Uint8Array): Uint8Array {
  const spki = AsnParser.parse(spkiDer, SubjectPublicKeyInfo);
  return new Uint8Array(createHash('sha1').update(new Uint8Array(spki.subjectPublicKey)).digest());
}

/**
 * The key identifier what this CA signs carries in its AuthorityKeyIdentifier: the CA
 * certificate's own SubjectKeyIdentifier (RFC 5280 §4.2.1.1: path building matches one against
 * the other), whatever method its issuer used for it (SHA-1 of the key, RFC 7093's truncated
 * SHA-256, …); SHA-1 of the key when it has none.
 */
export function issuerKeyIdentifier(caCertificateDer: Uint8Array): Uint8Array {
  const tbs = AsnParser.parse(caCertificateDer, Certificate).tbsCertificate;
  const ski = tbs.extensions?.find((e) => e.extnID === id_ce_subjectKeyIdentifier);
  if (ski) return new Uint8Array(AsnParser.parse(ski.extnValue.buffer, SubjectKeyIdentifier).buffer);
  return keyIdentifier(new Uint8Array(AsnConvert.serialize(tbs.subjectPublicKeyInfo)));
}

export const basicConstraints = (ca: boolean, pathLen?: number): Extension =>
  extension(
    id_ce_basicConstraints,
    true,
    new BasicConstraints(
      ca ? (pathLen === undefined ? { cA: true } : { cA: true, pathLenConstraint: pathLen }) : {},
    ),
  );

const KU_FLAG: Record<KeyUsageName | 'KeyCertSign' | 'CrlSign', KeyUsageFlags> = {
  DigitalSignature: KeyUsageFlags.digitalSignature,
  NonRepudiation: KeyUsageFlags.nonRepudiation,
  KeyEncipherment: KeyUsageFlags.keyEncipherment,
  DataEncipherment: KeyUsageFlags.dataEncipherment,
  KeyAgreement: KeyUsageFlags.keyAgreement,
  KeyCertSign: KeyUsageFlags.keyCertSign,
  CrlSign: KeyUsageFlags.cRLSign,
};

export const keyUsage = (names: readonly (keyof typeof KU_FLAG)[]): Extension =>
  extension(id_ce_keyUsage, true, new KeyUsage(names.reduce((f, n) => f | KU_FLAG[n], 0)));

export const extendedKeyUsage = (oids: readonly string[]): Extension =>
  extension(id_ce_extKeyUsage, false, new ExtendedKeyUsage([...oids]));

export const subjectKeyIdentifier = (spkiDer: Uint8Array): Extension =>
  extension(id_ce_subjectKeyIdentifier, false, new SubjectKeyIdentifier(keyIdentifier(spkiDer)));

export const authorityKeyIdentifier = (issuerSki: Uint8Array): Extension =>
  extension(
    id_ce_authorityKeyIdentifier,
    false,
    new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(issuerSki) }),
  );

/** RFC 5280 §4.2.2.1 access methods. */
export const id_ad_ocsp = '1.3.6.1.5.5.7.48.1';
export const id_ad_caIssuers = '1.3.6.1.5.5.7.48.2';
/** RFC 6960 §4.2.2.2.1: the responder certificate is not checked for revocation. */
export const id_pkix_ocsp_nocheck = '1.3.6.1.5.5.7.48.1.5';

const uri = (u: string): GeneralName => new GeneralName({ uniformResourceIdentifier: u });

/** AuthorityInfoAccess (RFC 5280 §4.2.2.1): where relying parties ask OCSP and fetch the CA certificate. */
export const authorityInfoAccess = (ocspUrl: string, caIssuersUrl: string): Extension =>
  extension(
    id_pe_authorityInfoAccess,
    false,
    new AuthorityInfoAccessSyntax([
      new AccessDescription({ accessMethod: id_ad_ocsp, accessLocation: uri(ocspUrl) }),
      new AccessDescription({ accessMethod: id_ad_caIssuers, accessLocation: uri(caIssuersUrl) }),
    ]),
  );

/** CRLDistributionPoints (RFC 5280 §4.2.1.13) with one full-name URI. */
export const crlDistributionPoints = (crlUrl: string): Extension =>
  extension(
    id_ce_cRLDistributionPoints,
    false,
    new CRLDistributionPoints([
      new DistributionPoint({ distributionPoint: new DistributionPointName({ fullName: [uri(crlUrl)] }) }),
    ]),
  );

/** id-pkix-ocsp-nocheck: extnValue is NULL (RFC 6960 §4.2.2.2.1). */
export const ocspNoCheck = (): Extension =>
  new Extension({
    extnID: id_pkix_ocsp_nocheck,
    critical: false,
    extnValue: new OctetString(Uint8Array.of(5, 0)),
  });
