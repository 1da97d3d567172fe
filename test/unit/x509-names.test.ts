import 'reflect-metadata';
import { Name as X509Name } from '@peculiar/x509';
import { describe, expect, it } from 'vitest';
import { objectIdentifier, seq, set, tlv } from '../../lib/cms/der.js';
import { nameDerToString } from '../../lib/x509/names.js';

/**
 * nameDerToString writes common names without the schema parser; whatever it is given, its
 * answer (or its refusal) must be exactly @peculiar/x509's Name.toString, which every stored
 * subject, audit event and search was written with.
 */

const TYPES = [
  '2.5.4.3', // CN
  '2.5.4.10', // O
  '2.5.4.11', // OU
  '2.5.4.6', // C
  '2.5.4.7', // L
  '2.5.4.8', // ST
  '0.9.2342.19200300.100.1.25', // DC
  '1.2.840.113549.1.9.1', // E
  '2.5.4.42', // G
  '2.5.4.43', // I
  '2.5.4.4', // SN
  '2.5.4.12', // T
  '2.5.4.5', // serialNumber: written as its OID
  '1.2.3.4.5',
];
/** UTF8String, PrintableString, IA5String, T61String, BMPString, OCTET STRING (an odd value type). */
const TAGS = [0x0c, 0x13, 0x16, 0x14, 0x1e, 0x04];
const CHARS = [
  'a',
  'Z',
  '0',
  ' ',
  '#',
  ',',
  '+',
  '"',
  '\\',
  '<',
  '>',
  ';',
  '=',
  '-',
  '.',
  'é',
  '\n',
  '\t',
  'ü',
  '€',
];

/** Deterministic pseudo-random numbers (mulberry32), so a failure names a reproducible case. */
function rng(seed: number): (n: number) => number {
  let a = seed;
  return (n) => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

function pick<T>(r: (n: number) => number, xs: readonly T[]): T {
  return xs[r(xs.length)] as T;
}

function encodeValue(tag: number, s: string): Uint8Array {
  if (tag === 0x1e) return tlv(tag, Buffer.from(s, 'utf16le').swap16());
  return tlv(tag, Buffer.from(s, tag === 0x0c ? 'utf8' : 'latin1'));
}

function randomName(r: (n: number) => number): Uint8Array {
  const rdns: Uint8Array[] = [];
  for (let i = r(5); i > 0; i--) {
    const atvs: Uint8Array[] = [];
    for (let j = 1 + (r(4) === 0 ? 1 : 0); j > 0; j--) {
      let value = '';
      for (let k = r(7); k > 0; k--) value += r(3) === 0 ? pick(r, CHARS) : pick(r, ['a', 'b', 'x', '1']);
      atvs.push(seq(objectIdentifier(pick(r, TYPES)), encodeValue(r(2) === 0 ? 0x13 : pick(r, TAGS), value)));
    }
    rdns.push(set(...atvs));
  }
  return seq(...rdns);
}

function expected(der: Uint8Array): string {
  try {
    return new X509Name(der).toString();
  } catch {
    return 'refused';
  }
}

function actual(der: Uint8Array): string {
  try {
    return nameDerToString(der);
  } catch {
    return 'refused';
  }
}

describe('nameDerToString', () => {
  it('writes a typical device subject as RFC 4514 text', () => {
    const der = seq(
      set(seq(objectIdentifier('2.5.4.6'), tlv(0x13, Buffer.from('US')))),
      set(seq(objectIdentifier('2.5.4.10'), tlv(0x0c, Buffer.from('Contoso, Ltd')))),
      set(seq(objectIdentifier('2.5.4.3'), tlv(0x0c, Buffer.from('device-1')))),
    );
    expect(nameDerToString(der)).toBe('C=US, O=Contoso\\, Ltd, CN=device-1');
  });

  it('writes 5,000 generated names (escapes, multi-valued RDNs, string types, unknown types) exactly as @peculiar/x509 does', () => {
    const r = rng(20261202);
    for (let i = 0; i < 5000; i++) {
      const der = randomName(r);
      expect(actual(der), Buffer.from(der).toString('hex')).toBe(expected(der));
    }
  });

  it.each([
    ['the empty name', '3000'],
    ['an empty RDN', '30023100'],
    ['an empty value', '300b3109300706035504031300'],
    ['indefinite lengths', '3080318030800603550403130161000000000000'],
    ['a truncated name', '300d310b300906035504031302'],
    ['trailing bytes', '300c310a30080603550403130161ff'],
    ['a value that is not a string', '300c310a300806035504030201ff'],
    ['an attribute without a value', '3007310530030603550403'],
  ])('answers for %s exactly as @peculiar/x509 does', (_, hex) => {
    const der = Buffer.from(hex, 'hex');
    expect(actual(der)).toBe(expected(der));
  });
});
