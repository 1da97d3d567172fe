import { AsnConvert, AsnParser, OctetString } from '@peculiar/asn1-schema';
import { Attribute } from '@peculiar/asn1-cms';
import { DirectoryString } from '@peculiar/asn1-x509';
import * as asn1js from 'asn1js';

/** Read a SCEP string attribute (PrintableString per RFC 8894; be lenient on the string type). */
export function readString(value: ArrayBuffer): string {
  const parsed = asn1js.fromBER(value);
  const block = parsed.result as { valueBlock?: { value?: unknown; valueHexView?: Uint8Array } };
  if (parsed.offset === -1) throw new Error('attribute value is not valid BER');
  const v = block.valueBlock?.value;
  if (typeof v === 'string') return v;
  if (block.valueBlock?.valueHexView) return Buffer.from(block.valueBlock.valueHexView).toString('latin1');
  return AsnParser.parse(value, DirectoryString).toString();
}

export function readOctets(value: ArrayBuffer): Uint8Array {
  return new Uint8Array(AsnParser.parse(value, OctetString).buffer);
}

export function printableAttr(type: string, value: string): Attribute {
  return new Attribute({ attrType: type, attrValues: [new asn1js.PrintableString({ value }).toBER()] });
}

export function utf8Attr(type: string, value: string): Attribute {
  return new Attribute({ attrType: type, attrValues: [new asn1js.Utf8String({ value }).toBER()] });
}

export function octetAttr(type: string, value: Uint8Array): Attribute {
  return new Attribute({ attrType: type, attrValues: [AsnConvert.serialize(new OctetString(value))] });
}

export function oidAttr(type: string, oid: string): Attribute {
  return new Attribute({ attrType: type, attrValues: [new asn1js.ObjectIdentifier({ value: oid }).toBER()] });
}

export function timeAttr(type: string, date: Date): Attribute {
  return new Attribute({ attrType: type, attrValues: [new asn1js.UTCTime({ valueDate: date }).toBER()] });
}
