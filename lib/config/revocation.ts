import { z } from 'zod';
import { bool, int, optionalString, section } from './parse.js';

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
  // Read-only here; defined and validated by the Intune section.
  AppConfig__IntuneValidation__Enabled: optionalString,
  AppConfig__AuthConfig__TenantId: optionalString,
});

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const revocationSection = section(
  schema,
  (r): RevocationSettings => ({
    crlValidityDays: r.AppConfig__Revocation__CrlValidityDays,
    ocspMaxAgeSeconds: r.AppConfig__Revocation__OcspMaxAgeSeconds,
    responderValidityHours: r.AppConfig__Revocation__ResponderValidityHours,
    intuneEnabled: r.AppConfig__IntuneValidation__RevocationEnabled,
    intuneBatchSize: r.AppConfig__IntuneValidation__RevocationBatchSize,
  }),
  (r) => {
    const tenant = r.AppConfig__AuthConfig__TenantId;
    // Intune keeps one revocation queue per tenant, and one pull per tenant id must take it
    // (lib/revocation/intune-tenants.ts): stored endpoints name their tenant by GUID, so a domain
    // here would make a second pull of the same queue, each answering the other's requests
    // "not found", which Intune takes as answered.
    return r.AppConfig__IntuneValidation__RevocationEnabled &&
      ['true', '1', 'yes'].includes(r.AppConfig__IntuneValidation__Enabled?.toLowerCase() ?? '') &&
      tenant !== undefined &&
      !GUID.test(tenant)
      ? [
          `AppConfig__AuthConfig__TenantId: Intune revocation needs the directory (tenant) id as a GUID, got "${tenant}"`,
        ]
      : [];
  },
);
