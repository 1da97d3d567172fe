import type { AuditLog } from '../audit/sink.js';
import type { CaSnapshot, LiveCa } from '../ca/holder.js';
import { trustedCas } from '../ca/urls.js';
import type { EnrollmentProfile } from '../enroll/endpoint.js';
import { RenewalRule } from '../enroll/renewal-rule.js';
import { EnrollmentService } from '../enroll/service.js';
import type { EndpointRegistry } from '../endpoints/registry.js';
import type { Logger } from '../log.js';
import type { RestEnrollment } from '../rest/enroll.js';
import type { RevocationService } from '../revocation/revoke.js';
import { revokeSupersededOnDelivery } from '../revocation/supersede.js';
import type { CertificateStore } from '../store/types.js';

type ProfileOf = (name: string) => Promise<EnrollmentProfile | undefined>;

/**
 * A renewal is governed by the profile of the endpoint that issued the certificate it renews.
 * The registry and the REST enrollment are read at each call: both are built after the rule.
 */
export function endpointProfiles(
  registry: () => EndpointRegistry,
  rest: () => RestEnrollment | undefined,
): ProfileOf {
  return async (name) => {
    if (name === 'api') return rest()?.profile;
    const e = await registry().resolve(name);
    return e && e.unavailable === undefined ? e.profile : undefined;
  };
}

/**
 * The enrollment use case (a delivered renewal revokes the certificate it supersedes under its
 * endpoint's renewal policy) and the one renewal rule for SCEP and REST: a renewal gets its
 * original endpoint's current profile; an endpoint that is gone, disabled or unusable renews
 * nothing (profile_unavailable). The rule trusts the CAs in use, again after an activation.
 */
export function createEnrollment(o: {
  cas: LiveCa;
  store: CertificateStore;
  audit: AuditLog;
  logger: Logger;
  clock: () => Date;
  revocation: RevocationService;
  profileOf: ProfileOf;
}): { enrollment: EnrollmentService; renewal: RenewalRule } {
  const { cas, store, logger, clock, profileOf } = o;
  const enrollment = new EnrollmentService(
    cas,
    store,
    o.audit,
    logger,
    clock,
    revokeSupersededOnDelivery({
      revocation: o.revocation,
      renewalPolicyOf: async (name) => (await profileOf(name))?.renewal,
      logger,
    }),
  );
  const trusted = (s: CaSnapshot): Uint8Array[] => trustedCas(s).map((c) => c.certificateDer);
  const renewal = new RenewalRule({
    caCertificates: trusted(cas.current),
    store,
    profileOf,
    now: clock,
  });
  cas.onSwitch((s) => {
    renewal.trust(trusted(s));
  });
  return { enrollment, renewal };
}
