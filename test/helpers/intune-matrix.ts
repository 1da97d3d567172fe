import 'reflect-metadata';
import type { X509Certificate } from 'node:crypto';
import { AsnConvert, AsnParser } from '@peculiar/asn1-schema';
import {
  Certificate,
  ExtendedKeyUsage,
  KeyUsage,
  KeyUsageFlags,
  SubjectAlternativeName,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  id_ce_subjectAltName,
} from '@peculiar/asn1-x509';
import { expect } from 'vitest';
import { extendedKeyUsage, keyUsage } from '../../lib/ca/extensions.js';
import { parseName } from '../../lib/ca/root.js';
import type { EnrollOptions } from './intune-flow.js';
import { san } from './pki.js';

/**
 * Microsoft's third-party SCEP test matrix (spec intune-scep-api.md §6, rows 1–20) as a table:
 * what the CSR asks for, and how the issued certificate must match it. The Intune host of
 * test/integration/intune-scep.test.ts runs with AppConfig__IntuneValidation__ValidityPeriodDays=30
 * and CopyRequestedExtensions at its default (true).
 */

export const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
export const IPSEC_TUNNEL = '1.3.6.1.5.5.7.3.6';

export const asn = (c: X509Certificate): Certificate => AsnParser.parse(c.raw, Certificate);
export const extValue = (c: X509Certificate, oid: string): ArrayBuffer | undefined =>
  asn(c).tbsCertificate.extensions?.find((e) => e.extnID === oid)?.extnValue.buffer;
export const kuFlags = (c: X509Certificate): number | undefined => {
  const v = extValue(c, id_ce_keyUsage);
  return v ? AsnParser.parse(v, KeyUsage).toNumber() : undefined;
};
export const ekus = (c: X509Certificate): string[] => {
  const v = extValue(c, id_ce_extKeyUsage);
  return v ? [...AsnParser.parse(v, ExtendedKeyUsage)] : [];
};
export const subjectDer = (c: X509Certificate): Buffer =>
  Buffer.from(AsnConvert.serialize(asn(c).tbsCertificate.subject));
/** The store's canonical serial: hex of the INTEGER bytes without leading zero bytes. */
export const serialOf = (c: X509Certificate): string =>
  c.serialNumber.toLowerCase().replace(/^(?:00)+(?=..)/, '');

/** One row: what the CSR asks for, and the check the issued certificate must pass. */
export interface MatrixRow {
  readonly row: string;
  readonly csr: Omit<EnrollOptions, 'path' | 'transactionId'>;
  readonly check: (cert: X509Certificate, startedAt: number) => void;
}
const subjectRow = (row: string, subject: string): MatrixRow => ({
  row,
  csr: { subject },
  check: (c) => {
    expect(subjectDer(c)).toEqual(Buffer.from(AsnConvert.serialize(parseName(subject))));
  },
});
const sanRow = (row: string, sans: ReturnType<typeof san.email>[], text: RegExp[]): MatrixRow => ({
  row,
  csr: { subject: 'CN=John Doe', sans },
  check: (c) => {
    expect(Buffer.from(extValue(c, id_ce_subjectAltName)!)).toEqual(
      Buffer.from(AsnConvert.serialize(new SubjectAlternativeName(sans))),
    );
    for (const t of text) expect(c.subjectAltName).toMatch(t);
  },
});
const kuRow = (row: string, names: ('DigitalSignature' | 'KeyEncipherment')[], flags: number): MatrixRow => ({
  row,
  csr: { subject: 'CN=ku-device', extensions: [keyUsage(names)] },
  check: (c) => {
    expect(kuFlags(c)).toBe(flags);
  },
});
const ekuRow = (row: string, oid: string): MatrixRow => ({
  row,
  csr: { subject: 'CN=eku-device', extensions: [extendedKeyUsage([oid])] },
  check: (c) => {
    expect(ekus(c)).toEqual([oid]);
  },
});
export const MATRIX_ROWS: MatrixRow[] = [
  {
    row: '1 validity from ValidityPeriodDays (30)',
    csr: { subject: 'CN=validity' },
    check: (c, startedAt) => {
      const expected = startedAt + 30 * 86_400_000;
      expect(Math.abs(new Date(c.validTo).getTime() - expected)).toBeLessThan(120_000);
    },
  },
  subjectRow('2 subject CN', 'CN=John Doe'),
  subjectRow('3 subject CN + E', 'CN=John Doe, E=john.doe@contoso.com'),
  subjectRow('4 subject email as CN', 'CN=john.doe@contoso.com'),
  subjectRow('5 subject IMEI', 'CN=353456789012345'),
  subjectRow('6 subject device serial', 'CN=C02XK1ABJG5H, 2.5.4.5=C02XK1ABJG5H'),
  subjectRow('7 subject custom', 'CN=John Doe, OU=Sales, O=Contoso, L=Redmond, ST=WA, C=US'),
  sanRow('8 SAN email', [san.email('john.doe@contoso.com')], [/email:john\.doe@contoso\.com/]),
  sanRow('9 SAN UPN', [san.upn('john.doe@contoso.com')], [/UPN::?john\.doe@contoso\.com/i]),
  sanRow(
    '10 SAN email + UPN',
    [san.email('john.doe@contoso.com'), san.upn('jd@contoso.onmicrosoft.com')],
    [/email:john\.doe@contoso\.com/, /UPN::?jd@contoso\.onmicrosoft\.com/i],
  ),
  sanRow(
    'strong mapping SAN URI (KB5014754)',
    [
      san.uri('tag:microsoft.com,2022-09-14:sid:S-1-5-21-1004336348-1177238915-682003330-512'),
      san.upn('john@contoso.com'),
    ],
    // Node prints the comma of the URI escaped (\u002c).
    [/URI:"?tag:microsoft\.com(,|\\u002c)2022-09-14:sid:S-1-5-21-1004336348-1177238915-682003330-512/],
  ),
  kuRow('11 KU digitalSignature', ['DigitalSignature'], KeyUsageFlags.digitalSignature),
  kuRow('12 KU keyEncipherment', ['KeyEncipherment'], KeyUsageFlags.keyEncipherment),
  kuRow(
    '13 KU digitalSignature + keyEncipherment',
    ['DigitalSignature', 'KeyEncipherment'],
    KeyUsageFlags.digitalSignature | KeyUsageFlags.keyEncipherment,
  ),
  {
    row: '15 key size 2048',
    csr: { subject: 'CN=rsa-2048', bits: 2048 },
    check: (c) => {
      expect(c.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    },
  },
  {
    row: '16 CSR signed with SHA-1',
    csr: { subject: 'CN=sha1-csr', hash: 'SHA-1' },
    check: (c) => {
      expect(asn(c).signatureAlgorithm.algorithm).toBe('1.2.840.113549.1.1.11'); // the CA's own hash
    },
  },
  {
    row: '17 CSR signed with SHA-256',
    csr: { subject: 'CN=sha256-csr', hash: 'SHA-256' },
    check: (c) => {
      expect(asn(c).signatureAlgorithm.algorithm).toBe('1.2.840.113549.1.1.11');
    },
  },
  ekuRow('19 EKU client authentication', CLIENT_AUTH),
  ekuRow('20 EKU IPsec tunnel', IPSEC_TUNNEL),
  {
    row: 'profile defaults when the CSR asks for no KU/EKU',
    csr: { subject: 'CN=defaults' },
    check: (c) => {
      expect(kuFlags(c)).toBe(KeyUsageFlags.digitalSignature | KeyUsageFlags.keyEncipherment);
      expect(ekus(c)).toEqual([CLIENT_AUTH]);
    },
  },
];
