/**
 * A small DER reader (ITU-T X.690) for showing a certificate's fields (RFC 5280 §4.1) in the
 * browser: enough for the version, algorithms, public key and the common extensions. The
 * management API hands out the PEM; nothing here is trusted or verified.
 */
interface Tlv {
  readonly tag: number;
  readonly value: Uint8Array;
}

function read(b: Uint8Array, at: number): Tlv & { end: number } {
  const tag = b[at] ?? 0;
  let len = b[at + 1] ?? 0;
  let p = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (b[p + i] ?? 0);
    p += n;
  }
  return { tag, value: b.subarray(p, p + len), end: p + len };
}

function children(b: Uint8Array): Tlv[] {
  const out: Tlv[] = [];
  for (let at = 0; at < b.length;) {
    const t = read(b, at);
    out.push(t);
    at = t.end;
  }
  return out;
}

function oid(v: Uint8Array): string {
  const parts = [Math.floor((v[0] ?? 0) / 40), (v[0] ?? 0) % 40];
  let n = 0;
  for (const byte of v.subarray(1)) {
    n = n * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) {
      parts.push(n);
      n = 0;
    }
  }
  return parts.join('.');
}

const NAMES: Record<string, string> = {
  '1.2.840.113549.1.1.1': 'RSA',
  '1.2.840.10045.2.1': 'EC',
  '1.2.840.113549.1.1.11': 'sha256WithRSAEncryption',
  '1.2.840.113549.1.1.12': 'sha384WithRSAEncryption',
  '1.2.840.113549.1.1.13': 'sha512WithRSAEncryption',
  '1.2.840.113549.1.1.10': 'RSASSA-PSS',
  '1.2.840.10045.4.3.2': 'ecdsa-with-SHA256',
  '1.2.840.10045.4.3.3': 'ecdsa-with-SHA384',
  '1.2.840.10045.3.1.7': 'P-256',
  '1.3.132.0.34': 'P-384',
  '2.5.29.14': 'Subject key identifier',
  '2.5.29.15': 'Key usage',
  '2.5.29.17': 'Subject alternative name',
  '2.5.29.19': 'Basic constraints',
  '2.5.29.31': 'CRL distribution points',
  '2.5.29.32': 'Certificate policies',
  '2.5.29.35': 'Authority key identifier',
  '2.5.29.37': 'Extended key usage',
  '1.3.6.1.5.5.7.1.1': 'Authority information access',
  '1.3.6.1.5.5.7.3.1': 'serverAuth',
  '1.3.6.1.5.5.7.3.2': 'clientAuth',
  '1.3.6.1.5.5.7.3.4': 'emailProtection',
  '1.3.6.1.5.5.7.3.17': 'ipsecIKE',
  '1.3.6.1.4.1.311.20.2': 'Certificate template name (Microsoft)',
  '1.3.6.1.4.1.311.21.7': 'Certificate template (Microsoft)',
};
const named = (o: string): string => NAMES[o] ?? o;
const hex = (v: Uint8Array): string => [...v].map((x) => x.toString(16).padStart(2, '0')).join(':');
const text = (v: Uint8Array): string => new TextDecoder().decode(v);

const KEY_USAGE = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
];

function generalNames(v: Uint8Array): string {
  return children(v)
    .map((n) => {
      const kind = n.tag & 0x1f;
      if (kind === 1) return `email:${text(n.value)}`;
      if (kind === 2) return `DNS:${text(n.value)}`;
      if (kind === 6) return `URI:${text(n.value)}`;
      if (kind === 7) return `IP:${n.value.length === 4 ? [...n.value].join('.') : hex(n.value)}`;
      if (kind === 0) return 'otherName';
      return `[${kind}]`;
    })
    .join(', ');
}

function extensionValue(id: string, v: Uint8Array): string {
  const inner = read(v, 0);
  if (id === '2.5.29.15') {
    const bits = inner.value.subarray(1);
    return KEY_USAGE.filter((_, i) => ((bits[i >> 3] ?? 0) >> (7 - (i & 7))) & 1).join(', ');
  }
  if (id === '2.5.29.37')
    return children(inner.value)
      .map((e) => named(oid(e.value)))
      .join(', ');
  if (id === '2.5.29.17') return generalNames(inner.value);
  if (id === '2.5.29.19')
    return children(inner.value).some((c) => c.tag === 1 && c.value[0]) ? 'CA' : 'end entity';
  if (id === '2.5.29.14') return hex(inner.value);
  if (id === '1.3.6.1.5.5.7.1.1' || id === '2.5.29.31') {
    const uris = text(v).match(/(?:https?|ldap):\/\/[\x21-\x7e]+/g);
    return uris ? uris.join(', ') : hex(v).slice(0, 64);
  }
  return hex(v).slice(0, 95) + (v.length > 32 ? '…' : '');
}

export interface DecodedCertificate {
  readonly version: number;
  readonly signatureAlgorithm: string;
  readonly publicKey: string;
  readonly extensions: { name: string; critical: boolean; value: string }[];
}

/** The fields of a PEM certificate, or undefined when it is not one this reader follows. */
export function decodeCertificate(pem: string): DecodedCertificate | undefined {
  try {
    const der = Uint8Array.from(atob(pem.replace(/-----[^-]+-----|\s/g, '')), (c) => c.charCodeAt(0));
    const [tbs, sigAlg] = children(read(der, 0).value);
    if (!tbs || !sigAlg) return undefined;
    const f = children(tbs.value);
    const explicitVersion = f[0]?.tag === 0xa0;
    const version = explicitVersion ? (read(f[0]?.value ?? new Uint8Array(), 0).value[0] ?? 0) + 1 : 1;
    const at = explicitVersion ? 1 : 0;
    const spki = children(f[at + 5]?.value ?? new Uint8Array());
    const [keyAlg, param] = children(spki[0]?.value ?? new Uint8Array());
    const algorithm = named(oid(keyAlg?.value ?? new Uint8Array()));
    const bits =
      algorithm === 'RSA'
        ? `${(children(read(spki[1]?.value.subarray(1) ?? new Uint8Array(), 0).value)[0]?.value.length ?? 1) * 8 - 8} bits`
        : param?.tag === 6
          ? named(oid(param.value))
          : '';
    const extField = f.find((x) => x.tag === 0xa3);
    const extensions = children(read(extField?.value ?? new Uint8Array(), 0).value).map((e) => {
      const [id, second, third] = children(e.value);
      const critical = second?.tag === 1 && (second.value[0] ?? 0) !== 0;
      const value = (second?.tag === 4 ? second : third)?.value ?? new Uint8Array();
      const o = oid(id?.value ?? new Uint8Array());
      return { name: named(o), critical, value: extensionValue(o, value) };
    });
    return {
      version,
      signatureAlgorithm: named(oid(children(sigAlg.value)[0]?.value ?? new Uint8Array())),
      publicKey: `${algorithm} ${bits}`.trim(),
      extensions,
    };
  } catch {
    return undefined;
  }
}
