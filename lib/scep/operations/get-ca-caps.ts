import { MediaType } from '../types.js';
import type { ScepResponse } from '../service.js';

/**
 * GetCACaps (RFC 8894 §3.5.2): one capability per line. Every capability listed works:
 * POSTPKIOperation (macOS needs it), Renewal (RenewalReq), SHA-1/SHA-256/SHA-384/SHA-512
 * request digests, AES and DES3 content ciphers, SCEPStandard. SHA-384 also makes strongSwan
 * 5.9.8 offer AES (its caps parser reads the wrong bit without it). GetNextCACert is listed only
 * while a next CA exists (RFC 8894 §4.7: a CA without a rollover certificate SHOULD NOT list it).
 */
export const CAPABILITIES = [
  'POSTPKIOperation',
  'Renewal',
  'SHA-1',
  'SHA-256',
  'SHA-384',
  'SHA-512',
  'AES',
  'DES3',
  'SCEPStandard',
] as const;

export function getCACaps(o: { readonly nextCa: boolean } = { nextCa: false }): ScepResponse {
  const caps: readonly string[] = o.nextCa ? ['GetNextCACert', ...CAPABILITIES] : CAPABILITIES;
  return { status: 200, contentType: MediaType.text, body: `${caps.join('\n')}\n` };
}
