import { createHash } from 'node:crypto';
import { AsnConvert, AsnParser, OctetString } from '@peculiar/asn1-schema';
import {
  AuthorityKeyIdentifier,
  BasicConstraints,
  ExtendedKeyUsage,
  Extension,
  KeyIdentifier,
  KeyUsage,
  KeyUsageFlags,
  SubjectKeyIdentifier,
  SubjectPublicKeyInfo,
  id_ce_authorityKeyIdentifier,
  id_ce_basicConstraints,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  id_ce_subjectKeyIdentifier,
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
