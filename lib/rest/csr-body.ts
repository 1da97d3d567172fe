import { AsnParser } from '@peculiar/asn1-schema';
import { CertificationRequest } from '@peculiar/asn1-csr';
import { ContentInfo, SignedData, id_data, id_signedData } from '@peculiar/asn1-cms';
import { badRequest, isAppError } from '../errors.js';

/**
 * The body of `POST /api/csr`: a PKCS#10 request (RFC 2986) in one of the forms scripts and
 * tools produce, told apart by content, not by Content-Type (curl --data-binary sends
 * application/x-www-form-urlencoded unless told otherwise):
 *
 * - DER (`openssl req -outform DER`, Content-Type application/pkcs10);
 * - PEM, `-----BEGIN CERTIFICATE REQUEST-----` or `NEW CERTIFICATE REQUEST` (Windows certreq);
 * - bare base64 of the DER, standard or URL-safe alphabet, line breaks and padding optional;
 * - a CMS SignedData (RFC 5652) whose encapsulated content is the PKCS#10, as DER, base64 or
 *   PEM (`PKCS7` / `CMS`), including BER with a constructed (chunked) eContent OCTET STRING as
 *   streaming encoders write it. The SignedData signature is not checked: it authorizes nothing.
 *
 * Returns the PKCS#10 DER for lib/csr/parse.ts; throws AppError BAD_REQUEST with a message
 * that says which form was recognised and what is wrong with it.
 */
export function csrFromBody(body: Uint8Array): Uint8Array {
  if (body.length === 0) throw badRequest('the request body is empty: send a PKCS#10 certificate request');
  if (body[0] === 0x30) return fromDer(body, 'DER');
  const text = decodeText(body);
  const blocks = pemBlocks(text);
  const request = blocks.find(
    (b) => b.label === 'CERTIFICATE REQUEST' || b.label === 'NEW CERTIFICATE REQUEST',
  );
  if (request) return pkcs10(base64(request.body, `the PEM ${request.label} block`), 'PEM');
  const cms = blocks.find((b) => b.label === 'PKCS7' || b.label === 'CMS');
  if (cms) return fromCms(base64(cms.body, `the PEM ${cms.label} block`));
  const first = blocks[0];
  if (first) {
    throw badRequest(
      `a PEM "${first.label}" block is not a certificate request (expected CERTIFICATE REQUEST or PKCS7)`,
    );
  }
  if (text.includes('-----BEGIN')) throw badRequest('the PEM block in the body is incomplete');
  const der = base64(text, 'the body');
  if (der[0] !== 0x30) throw badRequest('the base64 body does not decode to a DER structure');
  return fromDer(der, 'base64');
}

function fromDer(der: Uint8Array, form: string): Uint8Array {
  // ContentInfo starts SEQUENCE { OBJECT IDENTIFIER ...; PKCS#10 starts SEQUENCE { SEQUENCE ...
  if (looksLikeContentInfo(der)) return fromCms(der);
  return pkcs10(der, form);
}

function pkcs10(der: Uint8Array, form: string): Uint8Array {
  try {
    AsnParser.parse(der, CertificationRequest);
  } catch (e) {
    throw badRequest(`the ${form} body is not a valid PKCS#10 certificate request`, e);
  }
  return der;
}

function fromCms(der: Uint8Array): Uint8Array {
  let signed: SignedData;
  try {
    const ci = AsnParser.parse(der, ContentInfo);
    if (ci.contentType !== id_signedData) {
      throw badRequest(
        `the CMS body is ${ci.contentType}, not SignedData (${id_signedData}) wrapping a PKCS#10`,
      );
    }
    signed = AsnParser.parse(ci.content, SignedData);
  } catch (e) {
    if (isAppError(e)) throw e;
    throw badRequest('the CMS body cannot be parsed as SignedData', e);
  }
  const eci = signed.encapContentInfo;
  if (eci.eContentType !== id_data) {
    // e.g. 1.3.6.1.5.5.7.12.2 id-cct-PKIData (RFC 5272 full CMC), which this API does not speak.
    throw badRequest(`the SignedData content type ${eci.eContentType} is not supported (expected id-data)`);
  }
  const single = eci.eContent?.single;
  const inner = single
    ? new Uint8Array(single.buffer)
    : eci.eContent?.any
      ? constructedOctets(eci.eContent.any)
      : undefined;
  if (!inner || inner.length === 0)
    throw badRequest('the SignedData has no encapsulated certificate request');
  return pkcs10(inner, 'CMS-wrapped');
}

function looksLikeContentInfo(der: Uint8Array): boolean {
  let i = 1;
  const len = der[i++] ?? 0;
  if (len & 0x80) i += len & 0x7f; // long or indefinite form: skip the length octets
  return der[i] === 0x06;
}

/**
 * The value of a BER constructed OCTET STRING (X.690 §8.7.3): primitive chunks, possibly
 * nested, with definite or indefinite lengths.
 */
export function constructedOctets(ber: ArrayBuffer): Uint8Array {
  const b = new Uint8Array(ber);
  const out: number[] = [];
  const err = (): never => {
    throw badRequest('the encapsulated content of the SignedData is not a valid OCTET STRING');
  };
  const walk = (pos: number, depth: number): number => {
    if (depth > 8) err();
    const tag = b[pos] ?? err();
    let p = pos + 1;
    const first = b[p++] ?? err();
    let len = -1;
    if (first < 0x80) len = first;
    else if (first > 0x80) {
      const n = first & 0x7f;
      if (n > 4) err();
      len = 0;
      for (let k = 0; k < n; k++) len = len * 256 + (b[p++] ?? err());
    }
    if (tag === 0x04) {
      if (len < 0 || p + len > b.length) err();
      for (let k = 0; k < len; k++) out.push(b[p + k] ?? 0);
      return p + len;
    }
    if (tag !== 0x24) err();
    const end = len < 0 ? b.length : p + len;
    if (end > b.length) err();
    while (p < end) {
      if (len < 0 && b[p] === 0 && b[p + 1] === 0) return p + 2; // end-of-contents
      p = walk(p, depth + 1);
    }
    return len < 0 ? err() : p;
  };
  walk(0, 0);
  return new Uint8Array(out);
}

/**
 * RFC 7468 blocks, in order. Linear in the body: scanning stops at the first BEGIN without its
 * END, so a body full of unterminated BEGIN lines costs one pass, not one per line.
 */
function pemBlocks(text: string): { label: string; body: string }[] {
  const out: { label: string; body: string }[] = [];
  let i = 0;
  for (;;) {
    const begin = text.indexOf('-----BEGIN ', i);
    if (begin < 0) return out;
    const labelEnd = text.indexOf('-----', begin + 11);
    const label = labelEnd < 0 ? '' : text.slice(begin + 11, labelEnd);
    if (!/^[A-Z0-9 ]{1,40}$/.test(label)) return out;
    const endMarker = `-----END ${label}-----`;
    const end = text.indexOf(endMarker, labelEnd + 5);
    if (end < 0) return out;
    out.push({ label, body: text.slice(labelEnd + 5, end) });
    i = end + endMarker.length;
  }
}

function decodeText(body: Uint8Array): string {
  // A binary body that is neither DER nor text: say so rather than "bad base64".
  const binary = body.some((b) => b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d);
  const text = new TextDecoder('utf-8', { fatal: false }).decode(body);
  if (binary || text.includes('\ufffd')) {
    throw badRequest('the body is neither DER (starting with a SEQUENCE), PEM nor base64');
  }
  return text;
}

function base64(s: string, what: string): Uint8Array {
  const compact = s.replace(/\s+/g, '').replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
  if (compact === '' || !/^[A-Za-z0-9+/]+$/.test(compact) || compact.length % 4 === 1) {
    throw badRequest(`${what} is not valid base64`);
  }
  return new Uint8Array(Buffer.from(compact, 'base64'));
}
