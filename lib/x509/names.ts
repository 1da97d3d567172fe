import 'reflect-metadata';
import { AsnConvert } from '@peculiar/asn1-schema';
import { GeneralName, Name } from '@peculiar/asn1-x509';
import { Name as X509Name } from '@peculiar/x509';
import { parseBer, type Ber } from '../cms/ber.js';

/** RFC 4514 string of a Name, e.g. `CN=device, O=Contoso`. */
export function nameToString(name: Name): string {
  return new X509Name(AsnConvert.serialize(name)).toString();
}

/** RFC 4514 string of an encoded Name (one per enrollment at least: the request's subject). */
export function nameDerToString(der: Uint8Array): string {
  return plainNameToString(der) ?? new X509Name(der).toString();
}

/** The attribute types @peculiar/x509 writes by name, keyed by their encoded OID (hex). */
const SHORT_NAMES: ReadonlyMap<string, string> = new Map([
  ['550403', 'CN'],
  ['550407', 'L'],
  ['550408', 'ST'],
  ['55040a', 'O'],
  ['55040b', 'OU'],
  ['550406', 'C'],
  ['0992268993f22c640119', 'DC'],
  ['2a864886f70d010901', 'E'],
  ['55042a', 'G'],
  ['55042b', 'I'],
  ['550404', 'SN'],
  ['55040c', 'T'],
]);
/** UTF8String, PrintableString, IA5String. */
const PLAIN_STRING_TAGS = new Set([12, 19, 22]);

/**
 * The common Name without the schema parser (which costs a few tenths of a millisecond per
 * call): every attribute a known type whose value is a non-empty UTF8String, PrintableString
 * or IA5String of printable ASCII, written exactly as @peculiar/x509's Name.toString writes it.
 * Anything else (other string types, other characters, unknown types, malformed input) is
 * undefined and left to the library, which formats or refuses it as before.
 */
function plainNameToString(der: Uint8Array): string | undefined {
  let name: Ber;
  try {
    name = parseBer(der);
  } catch {
    return undefined;
  }
  if (!isSequenceOf(name, 0x10)) return undefined;
  const rdns: string[] = [];
  for (const rdn of name.children) {
    if (!isSequenceOf(rdn, 0x11) || rdn.children.length === 0) return undefined;
    const attributes: string[] = [];
    for (const atv of rdn.children) {
      const [type, value] = atv.children;
      if (!isSequenceOf(atv, 0x10) || atv.children.length !== 2 || !type || !value) return undefined;
      if (type.tagClass !== 0 || type.tag !== 6 || type.constructed) return undefined;
      const short = SHORT_NAMES.get(
        Buffer.from(der.subarray(type.contentStart, type.contentEnd)).toString('hex'),
      );
      const text = plainText(value);
      if (short === undefined || text === undefined) return undefined;
      attributes.push(`${short}=${escapeValue(text)}`);
    }
    rdns.push(attributes.join('+'));
  }
  return rdns.join(', ');
}

function isSequenceOf(n: Ber, tag: number): boolean {
  return (
    n.tagClass === 0 && n.tag === tag && n.constructed && n.end - n.start >= 2 && n.buf[n.start + 1] !== 0x80
  );
}

function plainText(n: Ber): string | undefined {
  if (n.tagClass !== 0 || n.constructed || !PLAIN_STRING_TAGS.has(n.tag)) return undefined;
  if (n.contentEnd === n.contentStart) return undefined;
  for (let i = n.contentStart; i < n.contentEnd; i++) {
    const b = n.buf[i] ?? 0;
    if (b < 0x20 || b > 0x7e) return undefined;
  }
  return Buffer.from(n.buf.subarray(n.contentStart, n.contentEnd)).toString('latin1');
}

/** RFC 4514 §2.4 escaping, as @peculiar/x509 applies it (printable ASCII only reaches here). */
function escapeValue(s: string): string {
  return s
    .replace(/([,+"\\<>;])/g, '\\$1')
    .replace(/^([ #])/, '\\$1')
    .replace(/([ ]$)/, '\\$1');
}

const UPN_OID = '1.3.6.1.4.1.311.20.2.3';

/** "dns:x", "email:x", "uri:x", "ip:x", "upn:x", "dn:x", "other:<oid>" — stable, searchable form. */
export function generalNameToString(gn: GeneralName): string {
  if (gn.dNSName !== undefined) return `dns:${gn.dNSName}`;
  if (gn.rfc822Name !== undefined) return `email:${gn.rfc822Name}`;
  if (gn.uniformResourceIdentifier !== undefined) return `uri:${gn.uniformResourceIdentifier}`;
  if (gn.iPAddress !== undefined) return `ip:${gn.iPAddress}`;
  if (gn.directoryName !== undefined) return `dn:${nameToString(gn.directoryName)}`;
  if (gn.registeredID !== undefined) return `rid:${gn.registeredID}`;
  if (gn.otherName !== undefined) {
    if (gn.otherName.typeId === UPN_OID) return `upn:${decodeUtf8Any(gn.otherName.value)}`;
    return `other:${gn.otherName.typeId}`;
  }
  return 'unknown';
}

/** The UPN otherName value is `[0] EXPLICIT UTF8String`; read the inner string leniently. */
function decodeUtf8Any(value: ArrayBuffer): string {
  const b = new Uint8Array(value);
  // [0] { UTF8String } → skip the two TLV headers when present.
  let i = 0;
  const skipHeader = (): void => {
    i++;
    const len = b[i++] ?? 0;
    if (len & 0x80) i += len & 0x7f;
  };
  if (b[0] === 0xa0) skipHeader();
  if (b[i] === 0x0c || b[i] === 0x13 || b[i] === 0x16) skipHeader();
  return new TextDecoder().decode(b.subarray(i));
}
