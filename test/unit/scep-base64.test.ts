import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../lib/errors.js';
import { decodeMessageParam, rawQueryParam } from '../../lib/scep/base64.js';

/** GET PKIOperation's `message` parameter as real clients send it (field notes #2). */

// fb ef be → "++++", ff ff ff → "////", and a length that needs "=" padding.
const bytes = new Uint8Array([
  0xfb,
  0xef,
  0xbe,
  0xff,
  0xff,
  0xff,
  ...Buffer.from('SCEP pkiMessage bytes'),
  0x01,
]);
const b64 = Buffer.from(bytes).toString('base64');
const fixture = new Uint8Array(
  readFileSync(join(import.meta.dirname, '..', 'fixtures', 'scep', 'strongswan-pkcsreq-aes128.der')),
);

const lines = (s: string, n: number, eol: string): string =>
  (s.match(new RegExp(`.{1,${n}}`, 'g')) ?? []).join(eol);

/** Every form a `message` value arrives in, for the given bytes. */
function variants(data: Uint8Array): Record<string, string> {
  const std = Buffer.from(data).toString('base64');
  const urlSafe = std.replace(/\+/g, '-').replace(/\//g, '_');
  return {
    'standard, unescaped (macOS)': std,
    'percent-encoded': encodeURIComponent(std),
    'percent-encoded with lower-case escapes': encodeURIComponent(std).replace(/%[0-9A-F]{2}/g, (m) =>
      m.toLowerCase(),
    ),
    'URL-safe with padding': urlSafe,
    'URL-safe without padding': urlSafe.replace(/=+$/, ''),
    'URL-safe percent-encoded': encodeURIComponent(urlSafe),
    '+ turned into a space by form decoding': std.replace(/\+/g, ' '),
    '+ sent as %20': std.replace(/\+/g, '%20'),
    'missing padding': std.replace(/=+$/, ''),
    'percent-encoded, missing padding': encodeURIComponent(std.replace(/=+$/, '')),
    '%0A line breaks every 64 characters': encodeURIComponent(lines(std, 64, '\n')),
    '%0D%0A line breaks every 76 characters': encodeURIComponent(lines(std, 76, '\r\n')),
    'raw line breaks and a trailing newline': `${lines(std, 64, '\n')}\n`,
    'unescaped + and / with percent-encoded =': std.replace(/=/g, '%3D'),
  };
}

function expectBadRequest(raw: string): void {
  let thrown: unknown;
  try {
    decodeMessageParam(raw);
  } catch (e) {
    thrown = e;
  }
  expect(thrown, `"${raw}" is refused`).toBeInstanceOf(AppError);
  expect((thrown as AppError).code).toBe('BAD_REQUEST');
}

describe('decodeMessageParam', () => {
  it('the test bytes exercise +, / and padding', () => {
    expect(b64).toMatch(/\+/);
    expect(b64).toMatch(/\//);
    expect(b64).toMatch(/=$/);
  });

  it.each(Object.entries(variants(bytes)))('ok/%s decodes to the same bytes', (_name, raw) => {
    expect(Buffer.from(decodeMessageParam(raw)).equals(Buffer.from(bytes))).toBe(true);
  });

  it.each(Object.entries(variants(fixture)))(
    'ok/a real pkiMessage, %s, decodes to the same bytes',
    (_name, raw) => {
      expect(Buffer.from(decodeMessageParam(raw)).equals(Buffer.from(fixture))).toBe(true);
    },
  );

  it('ok/a stray % in an unescaped value is taken literally and then refused as non-base64', () => {
    expectBadRequest('QUJD%');
  });

  it.each([
    ['empty', ''],
    ['only padding', '===='],
    ['punctuation', '!!!!'],
    ['a dollar inside', 'QUJD$REVG'],
    ['one character too many (length % 4 == 1)', 'QUJDR'],
    ['padding in the middle', 'QQ==QQ=='],
    ['a percent escape of a non-base64 character', 'QUJD%21'],
    ['a broken percent escape', '%ZZQUJD'],
    ['JSON', '{"message":"x"}'],
  ])('fail/%s is BAD_REQUEST', (_name, raw) => {
    expectBadRequest(raw);
  });
});

describe('rawQueryParam', () => {
  const url = (q: string): string => `http://127.0.0.1/scep/static${q}`;

  it('ok/returns the value exactly as it appears in the query string, = padding included', () => {
    expect(rawQueryParam(url(`?operation=PKIOperation&message=${b64}`), 'message')).toBe(b64);
    expect(rawQueryParam(url('?message=ab%2Bcd%3D%3D&operation=PKIOperation'), 'message')).toBe(
      'ab%2Bcd%3D%3D',
    );
    expect(rawQueryParam(url('?message=a+b c'), 'message')).toBe('a+b c');
  });

  it('ok/the first of repeated parameters wins', () => {
    expect(rawQueryParam(url('?message=first&message=second'), 'message')).toBe('first');
  });

  it('ok/absent parameter or no query → undefined; a bare name → ""', () => {
    expect(rawQueryParam(url('?operation=GetCACert'), 'message')).toBeUndefined();
    expect(rawQueryParam(url(''), 'message')).toBeUndefined();
    expect(rawQueryParam(url('?'), 'message')).toBeUndefined();
    expect(rawQueryParam(url('?operation=GetCACert&message'), 'message')).toBe('');
    expect(rawQueryParam(url('?message='), 'message')).toBe('');
  });

  it('ok/name match is exact per parameter (no prefix match) and case-insensitive', () => {
    expect(rawQueryParam(url('?xmessage=1&message=2'), 'message')).toBe('2');
    expect(rawQueryParam(url('?messages=1'), 'message')).toBeUndefined();
    expect(rawQueryParam(url('?Message=CAIdentifier'), 'message')).toBe('CAIdentifier');
  });

  it('ok/stops at the fragment', () => {
    expect(rawQueryParam(url('?message=abc#message=def'), 'message')).toBe('abc');
  });
});
