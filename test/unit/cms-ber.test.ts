import { describe, expect, it } from 'vitest';
import { content, isDerFramed, octets, parseBer, raw, type Ber } from '../../lib/cms/ber.js';

const bytes = (...b: number[]): Uint8Array => new Uint8Array(b);
const hex = (u: Uint8Array): string => Buffer.from(u).toString('hex');

/** `depth` nested indefinite-length SEQUENCEs around a NULL. */
function nested(depth: number): Uint8Array {
  const open = Array.from({ length: depth }, () => [0x30, 0x80]).flat();
  const close = Array.from({ length: depth }, () => [0x00, 0x00]).flat();
  return bytes(...open, 0x05, 0x00, ...close);
}

describe('BER reader (X.690)', () => {
  it('reads a definite-length SEQUENCE with its children and their exact bytes', () => {
    const n = parseBer(bytes(0x30, 0x06, 0x02, 0x01, 0x05, 0x04, 0x01, 0x41));
    expect(n).toMatchObject({ tagClass: 0, constructed: true, tag: 16, start: 0, contentStart: 2, end: 8 });
    expect(n.children.map((c) => [c.tag, hex(raw(c)), hex(content(c))])).toEqual([
      [2, '020105', '05'],
      [4, '040141', '41'],
    ]);
    expect(n.children.every((c) => c.children.length === 0)).toBe(true);
  });

  it('reads indefinite lengths up to their end-of-contents octets', () => {
    const n = parseBer(bytes(0x30, 0x80, 0x04, 0x01, 0x41, 0x00, 0x00));
    expect(n).toMatchObject({ contentStart: 2, contentEnd: 5, end: 7 });
    expect(n.children).toHaveLength(1);
  });

  it('joins the segments of a constructed OCTET STRING', () => {
    const n = parseBer(bytes(0x24, 0x80, 0x04, 0x01, 0x41, 0x04, 0x01, 0x42, 0x00, 0x00));
    expect(Buffer.from(octets(n)).toString('latin1')).toBe('AB');
  });

  it('reads high tag numbers and long-form lengths', () => {
    const n: Ber = parseBer(bytes(0x9f, 0x81, 0x00, 0x81, 0x01, 0x07));
    expect(n).toMatchObject({ tagClass: 2, constructed: false, tag: 128, contentStart: 5, end: 6 });
  });

  it('accepts 48 levels of nesting and refuses a 50th', () => {
    expect(() => parseBer(nested(48))).not.toThrow();
    expect(() => parseBer(nested(50))).toThrow('nesting too deep');
  });

  it.each([
    ['nothing at all', bytes(), 'truncated'],
    ['an identifier without a length', bytes(0x30), 'truncated'],
    ['a length longer than the input', bytes(0x04, 0x02, 0x41), 'truncated'],
    ['long-form length octets missing', bytes(0x04, 0x82, 0x01), 'truncated'],
    ['a child running past its parent', bytes(0x30, 0x03, 0x04, 0x02, 0x41, 0x42), 'truncated'],
    ['an indefinite length without end-of-contents', bytes(0x30, 0x80, 0x05, 0x00), 'truncated'],
    ['a high tag number cut short', bytes(0x9f, 0x81), 'truncated'],
    [
      'an indefinite length on a primitive',
      bytes(0x04, 0x80, 0x00, 0x00),
      'indefinite length on a primitive',
    ],
    ['a five-octet length', bytes(0x04, 0x85, 0, 0, 0, 0, 1, 0x41), 'unsupported length'],
    [
      'a tag number of more than four octets',
      bytes(0x9f, 0x81, 0x81, 0x81, 0x81, 0x81, 0x01, 0x00),
      'too large',
    ],
    ['bytes after the outer element', bytes(0x05, 0x00, 0x00), 'trailing bytes'],
  ])('refuses %s', (_, input, message) => {
    expect(() => parseBer(input)).toThrow(message);
  });
});

describe('isDerFramed (X.690 §10.1, §10.2)', () => {
  it.each([
    ['a short SEQUENCE', [0x30, 0x03, 0x02, 0x01, 0x05]],
    [
      'a 200-byte OCTET STRING, length in one octet after 0x81',
      [0x04, 0x81, 200, ...new Array<number>(200).fill(0)],
    ],
    ['a high tag number in two octets', [0x9f, 0x20, 0x01, 0x00]],
  ])('ok/%s', (_, b) => {
    expect(isDerFramed(parseBer(bytes(...b)))).toBe(true);
  });

  it.each([
    ['an indefinite length', [0x30, 0x80, 0x05, 0x00, 0x00, 0x00]],
    ['a short length in the long form', [0x04, 0x81, 0x01, 0x41]],
    ['a length with a leading zero octet', [0x30, 0x82, 0x00, 0x02, 0x05, 0x00]],
    ['a low tag number in the high form', [0x1f, 0x04, 0x01, 0x41]],
    ['a constructed OCTET STRING', [0x24, 0x03, 0x04, 0x01, 0x41]],
    ['a constructed UTF8String', [0x2c, 0x03, 0x0c, 0x01, 0x41]],
    ['BER inside a definite-length SEQUENCE', [0x30, 0x04, 0x04, 0x81, 0x01, 0x41]],
  ])('fail/%s', (_, b) => {
    expect(isDerFramed(parseBer(bytes(...b)))).toBe(false);
  });
});
