import { StaticChallengeValidator } from '../challenge/static.js';
import type { CoreSettings } from '../config/core.js';
import { DEFAULT_POLICY } from '../csr/policy.js';
import { NO_HOOKS } from '../enroll/endpoint.js';
import { unavailableEndpoint, type ScepEndpoint } from '../scep/endpoint.js';

/**
 * `scep/static`: a shared challenge for Addigy, Kandji, Jamf, Mosyle, Workspace ONE and any
 * other MDM that puts a fixed challenge into its SCEP profile (SCEPman's /static endpoint).
 */
export function staticEndpoint(
  s: CoreSettings['static'],
  replyCipher: CoreSettings['responseCipher'],
): ScepEndpoint | undefined {
  const issuance = { validityDays: s.validityDays, keyUsage: s.keyUsage, ekus: s.ekus };
  if (!s.enabled) return undefined;
  if (s.unavailable !== undefined) return unavailableEndpoint('static', s.unavailable, issuance, replyCipher);
  if (s.requestPassword === undefined) return undefined;
  const validator = new StaticChallengeValidator(s.requestPassword);
  return {
    name: 'static',
    profile: {
      issuance,
      policy: DEFAULT_POLICY,
      renewal: { allowed: s.allowRenewals, revokeSuperseded: s.revokeSuperseded },
      replyCipher,
      storeCertificate: s.enableCertificateStorage,
    },
    authorizer: { challenge: (ctx) => validator.validate(ctx), refusalIsFinal: false },
    hooks: NO_HOOKS,
  };
}
