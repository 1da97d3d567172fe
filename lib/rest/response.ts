import { certsOnly } from '../cms/certs-only.js';
import { pemBlock } from '../x509/pem.js';

/**
 * The body of a successful `POST /api/csr`, chosen from the Accept header and `?chain=`:
 *
 * | Accept                                          | ?chain=true | body                                    |
 * |-------------------------------------------------|-------------|-----------------------------------------|
 * | absent, any (star/star), application/pkix-cert     | no          | the certificate, DER (RFC 2585)         |
 * | absent, any (star/star), application/pkix-cert     | yes         | certs-only PKCS#7 (a DER certificate cannot carry a chain) |
 * | application/x-pem-file                          | no          | the certificate, PEM                    |
 * | application/x-pem-file                          | yes         | the certificate, then the chain, PEM    |
 * | application/pem-certificate-chain (RFC 8555)    | either      | the certificate, then the chain, PEM    |
 * | application/pkcs7-mime, x-pkcs7-certificates    | either      | certs-only CMS SignedData (RFC 8551 §3.2.2), certificate and chain, DER |
 *
 * `chain` is the CA chain above the certificate, nearest first (issuing CA, then its issuers).
 * Unknown media types fall back to DER rather than 406: the certificate is already issued and
 * recorded, and every client can read DER.
 */
export interface CertificateBody {
  readonly contentType: string;
  readonly body: Uint8Array;
}

export type CertificateFormat = 'der' | 'pem' | 'pem-chain' | 'pkcs7';

const BY_TYPE: Readonly<Record<string, CertificateFormat>> = {
  'application/pkix-cert': 'der',
  'application/x-x509-cert': 'der',
  'application/x-pem-file': 'pem',
  'application/pem-certificate-chain': 'pem-chain',
  'application/pkcs7-mime': 'pkcs7',
  'application/x-pkcs7-mime': 'pkcs7',
  'application/x-pkcs7-certificates': 'pkcs7',
};

/** The preferred supported format in an Accept header (RFC 9110 §12.5.1 q-values), or undefined. */
export function formatFromAccept(accept: string | null | undefined): CertificateFormat | undefined {
  if (!accept) return undefined;
  let best: { format: CertificateFormat; q: number } | undefined;
  for (const part of accept.split(',')) {
    const [type = '', ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    const qParam = params.find((p) => p.startsWith('q='));
    const q = qParam === undefined ? 1 : Number(qParam.slice(2));
    const format = BY_TYPE[type];
    if (format === undefined || !(q > 0)) continue;
    if (best === undefined || q > best.q) best = { format, q };
  }
  return best?.format;
}

/** `?chain=true|1|yes` asks for the CA chain with the certificate. */
export function wantsChain(value: string | null | undefined): boolean {
  return value != null && ['true', '1', 'yes'].includes(value.trim().toLowerCase());
}

export function certificateBody(
  certificateDer: Uint8Array,
  chainDer: readonly Uint8Array[],
  accept: string | null | undefined,
  chain: string | null | undefined,
): CertificateBody {
  const asked = formatFromAccept(accept) ?? 'der';
  const withChain = wantsChain(chain);
  const format: CertificateFormat =
    asked === 'der' && withChain ? 'pkcs7' : asked === 'pem' && withChain ? 'pem-chain' : asked;
  switch (format) {
    case 'der':
      return { contentType: 'application/pkix-cert', body: certificateDer };
    case 'pem':
      return { contentType: 'application/x-pem-file', body: pemCertificates([certificateDer]) };
    case 'pem-chain':
      return {
        contentType: asked === 'pem' ? 'application/x-pem-file' : 'application/pem-certificate-chain',
        body: pemCertificates([certificateDer, ...chainDer]),
      };
    case 'pkcs7':
      return {
        contentType: 'application/pkcs7-mime; smime-type=certs-only',
        body: certsOnly([certificateDer, ...chainDer]),
      };
  }
}

/** RFC 7468 §5: base64 in lines of 64 characters between CERTIFICATE labels. */
export function pemCertificates(ders: readonly Uint8Array[]): Uint8Array {
  return new TextEncoder().encode(ders.map((d) => pemBlock('CERTIFICATE', d)).join(''));
}
