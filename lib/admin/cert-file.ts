import { pemCertificates } from '../rest/response.js';

/** A certificate as a download: DER (`application/pkix-cert`, .cer) or PEM. */
export interface CertificateFile {
  readonly contentType: string;
  readonly body: Uint8Array | string;
  readonly fileName: string;
}

export function certificateFile(der: Uint8Array, baseName: string, format: 'der' | 'pem'): CertificateFile {
  return format === 'pem'
    ? { contentType: 'application/x-pem-file', body: pemCertificates([der]), fileName: `${baseName}.pem` }
    : { contentType: 'application/pkix-cert', body: der, fileName: `${baseName}.cer` };
}
