import { z } from 'zod';
import { bool, int, section } from './parse.js';

/** CRL, OCSP and Intune revocation settings (docs/revocation.md). */
export interface RevocationSettings {
  /** CRL nextUpdate - thisUpdate, days. */
  readonly crlValidityDays: number;
  /** Cache-Control max-age of good and revoked OCSP responses, seconds (SCEPman: 600). */
  readonly ocspMaxAgeSeconds: number;
  /** OCSP responder certificate lifetime, hours; renewed at half. */
  readonly responderValidityHours: number;
  /** Pull Intune's revocation requests (downloadRevocationRequests) on a timer. */
  readonly intuneEnabled: boolean;
  /** Most requests one pull asks Intune for (1–500). */
  readonly intuneBatchSize: number;
}

const schema = z.object({
  AppConfig__Revocation__CrlValidityDays: int(7, 1, 365),
  AppConfig__Revocation__OcspMaxAgeSeconds: int(600, 0, 86400),
  AppConfig__Revocation__ResponderValidityHours: int(48, 2, 24 * 30),
  AppConfig__IntuneValidation__RevocationEnabled: bool(false),
  AppConfig__IntuneValidation__RevocationBatchSize: int(100, 1, 500),
});

export const revocationSection = section(schema, (r): RevocationSettings => ({
  crlValidityDays: r.AppConfig__Revocation__CrlValidityDays,
  ocspMaxAgeSeconds: r.AppConfig__Revocation__OcspMaxAgeSeconds,
  responderValidityHours: r.AppConfig__Revocation__ResponderValidityHours,
  intuneEnabled: r.AppConfig__IntuneValidation__RevocationEnabled,
  intuneBatchSize: r.AppConfig__IntuneValidation__RevocationBatchSize,
}));
