import { certsOnly } from '../cms/certs-only.js';

/**
 * RFC 7030 §4.1.3 and §4.2.3: EST answers certificates as a certs-only CMS SignedData
 * (RFC 5652) with `Content-Transfer-Encoding: base64`, i.e. the DER in base64 (RFC 2045: lines
 * of at most 76 characters, CRLF breaks; 64 here, as PEM has them).
 *
 * No line break after the last line: SCEPman's `enrollrenewcertificate.sh` (and the usual EST
 * recipe) wraps the body between `-----BEGIN PKCS7-----` and `\n-----END PKCS7-----` and reads
 * it with `openssl pkcs7 -print_certs`; a trailing break there makes an empty line before the
 * END line, which OpenSSL 3 refuses ("unable to load PKCS7 object").
 */
export const CERTS_ONLY_MEDIA_TYPE = 'application/pkcs7-mime; smime-type=certs-only';

export function base64CertsOnly(certsDer: readonly Uint8Array[]): string {
  const b64 = Buffer.from(certsOnly(certsDer)).toString('base64');
  return (b64.match(/.{1,64}/g) ?? []).join('\r\n');
}
