import { ClientCertificateRenewal } from '../auth/client-cert.js';
import type { Settings } from '../config/index.js';
import type { RenewalRule } from '../enroll/renewal-rule.js';
import type { EnrollmentService } from '../enroll/service.js';
import type { EndpointEstDeps } from '../est/endpoint-enroll.js';
import type { RestEnrollment } from '../rest/enroll.js';

/** The realm of the REST, EST and management challenges. */
export function realmOf(settings: Settings): string {
  return settings.core.baseUrl ?? 'azure-scep-ca';
}

/** REST enrollment when AppConfig__DbCSRValidation__Enabled; its modules load only then. */
export async function createRest(
  settings: Settings,
  renewal: RenewalRule,
  clock: () => Date,
): Promise<RestEnrollment | undefined> {
  if (!settings.rest.enabled) return undefined;
  const { createRestAuth } = await import('../rest/authorize.js');
  const { restEnrollment } = await import('../rest/enroll.js');
  const auth = createRestAuth(settings.rest, { rule: renewal, realm: realmOf(settings), now: clock });
  return restEnrollment(settings.rest, auth, settings.core.validityPeriodDays);
}

/** EST under an endpoint's label (`/.well-known/est/{label}/…`). */
export function estAtEndpoint(
  settings: Settings,
  enrollment: EnrollmentService,
  renewal: RenewalRule,
  clock: () => Date,
): EndpointEstDeps {
  return {
    enrollment,
    // The trusted client-certificate header, whenever one is configured.
    clientCertificates:
      settings.rest.clientCertificateHeader === undefined
        ? undefined
        : new ClientCertificateRenewal({
            header: settings.rest.clientCertificateHeader,
            rule: renewal,
            allowedAuthorizations: [],
          }),
    realm: realmOf(settings),
    now: clock,
  };
}
