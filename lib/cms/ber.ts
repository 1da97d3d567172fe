/**
 * A small BER/DER reader for the per-request SCEP path (its DER writer is ./der.ts).
 *
 * Why not the schema libraries here: measured on this project's 2-core machines, one
 * pkiMessage costs 1.6 ms through @peculiar/asn1-schema and 0.55 ms through asn1js.fromBER,
 * against a budget of about 1.5 ms of CPU for a whole enrollment (RSA included) to outrun
 * micromdm/scep. Everything that is not on that path (CSR extensions, names, settings,
 * Key Vault bootstrap, tests) uses @peculiar/asn1-* as usual.
 *
 * The reader accepts BER as clients send it (indefinite lengths, constructed strings: jscep,
 * certmonger, sscep, micromdm's constructed encryptedContent), keeps the exact bytes of every
 * element (signatures are checked over them), and refuses anything malformed with BerError.
 */

export class BerError extends Error {
  override readonly name = 'BerError';
}

export interface Ber {
  /** 0 universal, 1 application, 2 context-specific, 3 private (X.690 §8.1.2.2). */
  readonly tagClass: 0 | 1 | 2 | 3;
  readonly constructed: boolean;
  readonly tag: number;
  readonly buf: Uint8Array;
  readonly start: number;
  readonly contentStart: number;
  readonly contentEnd: number;
  readonly end: number;
  readonly children: readonly Ber[];
}

const MAX_DEPTH = 48;

export function parseBer(bytes: Uint8Array): Ber {
  const node = read(bytes, 0, bytes.length, 0);
  if (node.end !== bytes.length) throw new BerError('trailing bytes after the outer element');
  return node;
}

/** Children of a primitive element: one shared, frozen empty list. */
const NO_CHILDREN: readonly Ber[] = Object.freeze([]);

/** The byte at `i`; callers have checked `i` is below their limit. */
function byteAt(buf: Uint8Array, i: number): number {
  const b = buf[i];
  if (b === undefined) throw new BerError('truncated');
  return b;
}

// No closures per element: this runs for every element of every request (~170 per enrollment).
function read(buf: Uint8Array, at: number, limit: number, depth: number): Ber {
  if (depth > MAX_DEPTH) throw new BerError('nesting too deep');
  if (at + 2 > limit) throw new BerError('truncated');
  let p = at;
  const id = byteAt(buf, p++);
  const tagClass = (id >> 6) as 0 | 1 | 2 | 3;
  const constructed = (id & 0x20) !== 0;
  let tag = id & 0x1f;
  if (tag === 0x1f) {
    tag = 0;
    for (let i = 0; ; i++) {
      if (p + 1 > limit) throw new BerError('truncated');
      const b = byteAt(buf, p++);
      tag = tag * 128 + (b & 0x7f);
      if ((b & 0x80) === 0) break;
      if (i > 3) throw new BerError('tag number too large');
    }
  }
  if (p + 1 > limit) throw new BerError('truncated');
  const first = byteAt(buf, p++);
  if (first === 0x80) {
    if (!constructed) throw new BerError('indefinite length on a primitive element');
    const children: Ber[] = [];
    const contentEnd = readUntilEndOfContents(buf, p, limit, depth + 1, children);
    return {
      tagClass,
      constructed,
      tag,
      buf,
      start: at,
      contentStart: p,
      contentEnd,
      end: contentEnd + 2,
      children,
    };
  }
  let length = first;
  if (first & 0x80) {
    const n = first & 0x7f;
    if (n === 0 || n > 4) throw new BerError('unsupported length');
    if (p + n > limit) throw new BerError('truncated');
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + byteAt(buf, p++);
  }
  const contentStart = p;
  const contentEnd = p + length;
  if (contentEnd > limit) throw new BerError('truncated');
  let children = NO_CHILDREN;
  if (constructed) {
    const list: Ber[] = [];
    readChildren(buf, p, contentEnd, depth + 1, list);
    children = list;
  }
  return { tagClass, constructed, tag, buf, start: at, contentStart, contentEnd, end: contentEnd, children };
}

/**
 * The children of an indefinite-length element (X.690 §8.1.3.6), read into `children` up to
 * its end-of-contents octets; returns where those octets start.
 */
function readUntilEndOfContents(
  buf: Uint8Array,
  at: number,
  limit: number,
  depth: number,
  children: Ber[],
): number {
  let p = at;
  for (;;) {
    if (p + 2 > limit) throw new BerError('truncated');
    if (buf[p] === 0 && buf[p + 1] === 0) return p;
    const child = read(buf, p, limit, depth);
    children.push(child);
    p = child.end;
  }
}

/** The children of a definite-length constructed element, which fill [at, end) exactly. */
function readChildren(buf: Uint8Array, at: number, end: number, depth: number, children: Ber[]): void {
  let p = at;
  while (p < end) {
    const child = read(buf, p, end, depth);
    children.push(child);
    p = child.end;
  }
}

/**
 * `n` and everything in it are framed as DER frames them (X.690 §10.1, §10.2): definite lengths
 * in the fewest octets, tags in the fewest octets, bit, octet and character strings primitive.
 * What a request contributes to a certificate verbatim must be (RFC 5280 §4.1); contents rules
 * (INTEGER, BOOLEAN, SET OF order) are not checked here.
 */
export function isDerFramed(n: Ber): boolean {
  if (n.end !== n.contentEnd) return false; // indefinite length
  const length = n.contentEnd - n.contentStart;
  let lengthOctets = 1;
  for (let x = length; length >= 0x80 && x > 0; x = Math.floor(x / 256)) lengthOctets++;
  let tagOctets = 1;
  for (let x = n.tag; n.tag >= 0x1f && x > 0; x = Math.floor(x / 128)) tagOctets++;
  if (n.contentStart - n.start !== tagOctets + lengthOctets) return false;
  if (n.constructed && n.tagClass === 0 && (n.tag === 3 || n.tag === 4 || STRING_TAGS.has(n.tag)))
    return false;
  return n.children.every(isDerFramed);
}

/** The exact encoding of an element, as received (a view: copy before changing it). */
export function raw(n: Ber): Uint8Array {
  return n.buf.subarray(n.start, n.end);
}

export function content(n: Ber): Uint8Array {
  return n.buf.subarray(n.contentStart, n.contentEnd);
}

export function isContext(n: Ber, tag: number): boolean {
  return n.tagClass === 2 && n.tag === tag;
}

export function isUniversal(n: Ber, tag?: number): boolean {
  return n.tagClass === 0 && (tag === undefined || n.tag === tag);
}

/** Children of a constructed element. */
export function kids(n: Ber | undefined): readonly Ber[] {
  if (!n) throw new BerError('missing element');
  if (!n.constructed) throw new BerError('expected a constructed element');
  return n.children;
}

export function kid(n: Ber | undefined, i: number): Ber {
  const k = kids(n)[i];
  if (!k) throw new BerError(`missing element ${i}`);
  return k;
}

const oidCache = new Map<string, string>();

export function oid(n: Ber): string {
  if (!isUniversal(n, 6) || n.constructed) throw new BerError('expected an OBJECT IDENTIFIER');
  const c = content(n);
  const key = Buffer.from(c).toString('latin1');
  const cached = oidCache.get(key);
  if (cached !== undefined) return cached;
  const arcs: number[] = [];
  let v = 0;
  for (const b of c) {
    v = v * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) {
      if (arcs.length === 0) arcs.push(v < 80 ? Math.floor(v / 40) : 2, v < 80 ? v % 40 : v - 80);
      else arcs.push(v);
      v = 0;
    }
  }
  const s = arcs.join('.');
  if (oidCache.size < 4096) oidCache.set(key, s);
  return s;
}

/** Contents of an OCTET STRING (or any string type), concatenating BER constructed segments. */
export function octets(n: Ber): Uint8Array {
  if (!n.constructed) return content(n);
  return new Uint8Array(Buffer.concat(n.children.map(octets)));
}

/** UTF8String, NumericString, PrintableString, T61String, IA5String, VisibleString, UniversalString, BMPString. */
const STRING_TAGS = new Set([12, 18, 19, 20, 22, 26, 28, 30]);

/** A string type's value: UTF8String, BMPString (Windows), PrintableString, IA5String, T61String, … */
export function text(n: Ber): string {
  if (!isUniversal(n) || !STRING_TAGS.has(n.tag)) throw new BerError('expected a character string');
  const b = Buffer.from(octets(n));
  if (n.tag === 12) return b.toString('utf8');
  if (n.tag === 30) return b.swap16().toString('utf16le');
  return b.toString('latin1');
}

/** The content bytes of an INTEGER (two's complement, as encoded). */
export function integerBytes(n: Ber): Uint8Array {
  if (!isUniversal(n, 2)) throw new BerError('expected an INTEGER');
  return content(n);
}

/** BIT STRING contents without the unused-bits octet. */
export function bits(n: Ber): Uint8Array {
  if (!isUniversal(n, 3) || n.constructed) throw new BerError('expected a BIT STRING');
  return content(n).subarray(1);
}

/** UTCTime (RFC 5280: YYMMDDHHMMSSZ; two-digit years 50–99 are 19xx) or GeneralizedTime. */
export function time(n: Ber): Date {
  const s = Buffer.from(content(n)).toString('latin1');
  const m =
    n.tag === 23
      ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?Z$/.exec(s)
      : n.tag === 24
        ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(?:\.\d+)?Z$/.exec(s)
        : null;
  if (!m) throw new BerError('expected a UTCTime or GeneralizedTime in UTC');
  let year = Number(m[1]);
  if (n.tag === 23) year += year < 50 ? 2000 : 1900;
  return new Date(
    Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0)),
  );
}
