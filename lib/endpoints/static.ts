import { StaticChallengeValidator } from '../challenge/static.js';
import type { CoreSettings } from '../config/core.js';
import { DEFAULT_POLICY } from '../csr/policy.js';
import { unavailableEndpoint, type ScepEndpoint } from '../scep/endpoint.js';

/**
 * `scep/static`: a shared challenge for Addigy, Kandji, Jamf, Mosyle, Workspace ONE and any
 * other MDM that puts a fixed challenge into its SCEP profile (SCEPman's /static endpoint).
 */
export function staticEndpoint(s: CoreSettings['static']): ScepEndpoint | undefined {
  const profile = { validityDays: s.validityDays, keyUsage: s.keyUsage, ekus: s.ekus };
  if (!s.enabled) return undefined;
  if (s.unavailable !== undefined) return unavailableEndpoint('static', s.unavailable, profile);
  if (s.requestPassword === undefined) return undefined;
  return {
    name: 'static',
    challenge: new StaticChallengeValidator(s.requestPassword),
    profile,
    policy: DEFAULT_POLICY,
    allowRenewals: s.allowRenewals,
    storeCertificate: s.enableCertificateStorage,
  };
}
