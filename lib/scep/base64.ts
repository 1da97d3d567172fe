import { badRequest } from '../errors.js';

/**
 * Decode the `message` query parameter of a GET PKIOperation, as real clients send it
 * (sscep, jscep, micromdm scepclient and Windows differ): standard or URL-safe alphabet, percent-encoded or not, `+` turned into a
 * space by form decoding, line breaks (`%0A`), missing padding. `raw` is the parameter value
 * exactly as it appears in the query string.
 */
export function decodeMessageParam(raw: string): Uint8Array {
  let s: string;
  try {
    s = decodeURIComponent(raw);
  } catch {
    s = raw; // a stray % in an unescaped message: use it as is
  }
  s = s
    .replace(/ /g, '+')
    .replace(/[\r\n\t]/g, '')
    .replace(/-/g, '+')
    .replace(/_/g, '/');
  s = s.replace(/=+$/, '');
  if (s === '' || !/^[A-Za-z0-9+/]*$/.test(s) || s.length % 4 === 1) {
    throw badRequest('the message parameter is not base64');
  }
  return new Uint8Array(Buffer.from(s, 'base64'));
}

/** The raw (undecoded) value of a query parameter, or undefined. */
export function rawQueryParam(url: string, name: string): string | undefined {
  const q = url.indexOf('?');
  if (q < 0) return undefined;
  const hash = url.indexOf('#', q);
  const query = url.slice(q + 1, hash < 0 ? undefined : hash);
  for (const part of query.split('&')) {
    const eq = part.indexOf('=');
    const key = eq < 0 ? part : part.slice(0, eq);
    if (key.toLowerCase() === name.toLowerCase()) return eq < 0 ? '' : part.slice(eq + 1);
  }
  return undefined;
}
