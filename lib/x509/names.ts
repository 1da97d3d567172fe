import 'reflect-metadata';
import { AsnConvert } from '@peculiar/asn1-schema';
import { GeneralName, Name } from '@peculiar/asn1-x509';
import { Name as X509Name } from '@peculiar/x509';

/** RFC 4514 string of a Name, e.g. `CN=device, O=Contoso`. */
export function nameToString(name: Name): string {
  return new X509Name(AsnConvert.serialize(name)).toString();
}

/** RFC 4514 string of an encoded Name. */
export function nameDerToString(der: Uint8Array): string {
  return new X509Name(der).toString();
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
