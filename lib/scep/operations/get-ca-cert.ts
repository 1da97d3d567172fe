import { certsOnly } from '../../cms/certs-only.js';
import { MediaType } from '../types.js';
import type { ScepResponse } from '../service.js';

/**
 * GetCACert (RFC 8894 §4.2.1): a lone CA certificate as DER `application/x-x509-ca-cert`;
 * with a chain (subordinate CA) or an RA certificate, a degenerate certs-only SignedData
 * `application/x-x509-ca-ra-cert`. The `message` parameter (CA identifier) is ignored.
 */
export function getCACert(caDer: Uint8Array, chainDer: readonly Uint8Array[]): ScepResponse {
  if (chainDer.length === 0) return { status: 200, contentType: MediaType.caCert, body: caDer };
  return { status: 200, contentType: MediaType.caRaCert, body: certsOnly([caDer, ...chainDer]) };
}
