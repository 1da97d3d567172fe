import { X509Certificate } from 'node:crypto';
import { AppError } from '../errors.js';

/**
 * RFC 7468 textual encoding: base64 in lines of 64 characters between `-----BEGIN label-----`
 * and `-----END label-----`. `eol = ''` writes one line (an app setting value).
 */
export function pemBlock(label: string, der: Uint8Array, eol = '\n'): string {
  const b64 = Buffer.from(der).toString('base64');
  const body = eol === '' ? b64 : (b64.match(/.{1,64}/g) ?? []).join(eol);
  return `-----BEGIN ${label}-----${eol}${body}${eol}-----END ${label}-----${eol}`;
}

/** The DER inside the first PEM block of `text` (labels and whitespace dropped). */
export const pemDer = (text: string): Uint8Array =>
  new Uint8Array(Buffer.from(text.replace(/-----[^-]+-----|\s/g, ''), 'base64'));

/** PEM certificates → DER, in order, without the CA certificate itself if it is included. */
export function parseChain(pem: string | undefined, caDer: Uint8Array): Uint8Array[] {
  if (pem === undefined) return [];
  const ca = Buffer.from(caDer);
  return parsePemCertificates(pem).filter((der) => !Buffer.from(der).equals(ca));
}

export function parsePemCertificates(text: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  // An app setting may carry the PEM on one line, or with literal "\n" sequences for line breaks.
  const normalized = text.replace(/\\n/g, '\n');
  for (const m of normalized.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g)) {
    const der = new Uint8Array(Buffer.from((m[1] ?? '').replace(/\s+/g, ''), 'base64'));
    checkCertificate(der, out.length + 1); // a bad chain setting fails at start, not per request
    out.push(der);
  }
  return out;
}

function checkCertificate(der: Uint8Array, n: number): X509Certificate {
  try {
    return new X509Certificate(der);
  } catch (e) {
    throw new AppError(
      'CONFIG_INVALID',
      `certificate ${n} of the PEM text is not a valid X.509 certificate`,
      {
        cause: e,
      },
    );
  }
}
