/**
 * Re-encode a DER pkiMessage the way BER senders (jscep, certmonger, sscep) do: indefinite
 * lengths on the outer ContentInfo / SignedData / EncapsulatedContentInfo, and the eContent
 * OCTET STRING split into a constructed string of chunks. The signed bytes (the eContent
 * octets, the signed attributes) and the certificates are unchanged, so the signature still
 * verifies.
 */

interface Tlv {
  readonly tag: number;
  readonly start: number;
  readonly contentStart: number;
  readonly end: number;
}

function tlv(b: Uint8Array, offset: number): Tlv {
  const tag = b[offset]!;
  let len = b[offset + 1]!;
  let contentStart = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[offset + 2 + i]!;
    contentStart += n;
  }
  return { tag, start: offset, contentStart, end: contentStart + len };
}

function children(b: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = parent.contentStart; at < parent.end;) {
    const t = tlv(b, at);
    out.push(t);
    at = t.end;
  }
  return out;
}

const raw = (b: Uint8Array, t: Tlv): Buffer => Buffer.from(b.subarray(t.start, t.end));
const indefinite = (tag: number, parts: readonly Buffer[]): Buffer =>
  Buffer.concat([Buffer.from([tag, 0x80]), ...parts, Buffer.from([0, 0])]);

function definite(tag: number, content: Buffer): Buffer {
  const len = content.length;
  const header = len < 0x80 ? [tag, len] : len < 0x100 ? [tag, 0x81, len] : [tag, 0x82, len >> 8, len & 0xff];
  return Buffer.concat([Buffer.from(header), content]);
}

export function berPkiMessage(der: Uint8Array, chunk = 256): Uint8Array {
  const ci = tlv(der, 0);
  const [contentType, explicit] = children(der, ci);
  const sd = children(der, explicit!)[0]!;
  const [version, digestAlgs, encap, ...rest] = children(der, sd);
  const [eContentType, eExplicit] = children(der, encap!);
  const octets = children(der, eExplicit!)[0]!;
  const content = Buffer.from(der.subarray(octets.contentStart, octets.end));
  const chunks: Buffer[] = [];
  for (let i = 0; i < content.length; i += chunk) chunks.push(definite(0x04, content.subarray(i, i + chunk)));
  const newEncap = indefinite(0x30, [raw(der, eContentType!), indefinite(0xa0, [indefinite(0x24, chunks)])]);
  const newSd = indefinite(0x30, [
    raw(der, version!),
    raw(der, digestAlgs!),
    newEncap,
    ...rest.map((t) => raw(der, t)),
  ]);
  return new Uint8Array(indefinite(0x30, [raw(der, contentType!), indefinite(0xa0, [newSd])]));
}
