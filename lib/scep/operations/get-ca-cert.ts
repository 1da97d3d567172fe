import { certsOnly } from '../../cms/certs-only.js';
import { MediaType } from '../types.js';
import type { ScepResponse } from '../service.js';

/**
 * GetCACert (RFC 8894 §4.2.1): a lone CA certificate as DER `application/x-x509-ca-cert`;
 * with a chain (subordinate CA) or an RA certificate, a degenerate certs-only SignedData
 * `application/x-x509-ca-ra-cert` (RA first, then the CA and its chain). The `message` parameter (CA identifier) is ignored.
 */
export function getCACert(published: readonly Uint8Array[]): ScepResponse {
  const [only] = published;
  if (only && published.length === 1) return { status: 200, contentType: MediaType.caCert, body: only };
  return { status: 200, contentType: MediaType.caRaCert, body: certsOnly(published) };
}
