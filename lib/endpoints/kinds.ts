import { NO_HOOKS, type EnrollmentProfile } from '../enroll/endpoint.js';
import type { Account } from '../model/account.js';
import { isIntuneType, soleOwner, type Endpoint } from '../model/endpoint.js';
import type { ScepEndpoint } from '../scep/endpoint.js';
import type { DocumentCollection } from '../store/documents.js';
import { AccountAuthorizer } from './account-authorizer.js';
import { issuanceOf, profileValidators } from './profile-policy.js';

/**
 * The request-path object of a stored endpoint, by type: client-scep/device-scep authorize
 * with their accounts' challenges; client-intune/device-intune ask their own Intune tenant.
 */
export interface KindDeps {
  readonly accounts: DocumentCollection<Account>;
  readonly clock: () => Date;
  /** Intune types: an Intune endpoint for this stored one (its own tenant connection). */
  readonly intune: (e: Endpoint, profile: EnrollmentProfile) => ScepEndpoint;
}

export function enrollmentProfile(e: Endpoint): EnrollmentProfile {
  const p = e.profile;
  return {
    issuance: issuanceOf(p),
    policy: profileValidators(p),
    renewal: {
      allowed: p.renewal.allowed,
      windowDays: p.renewal.windowDays,
      revokeSuperseded: p.renewal.revokeSuperseded,
    },
    replyCipher: p.replyCipher,
    storeCertificate: p.storeCertificate,
  };
}

export function buildEndpoint(d: KindDeps, e: Endpoint): ScepEndpoint {
  const profile = enrollmentProfile(e);
  const owner = soleOwner(e.delegatedTo);
  if (isIntuneType(e.type)) return { ...d.intune(e, profile), raEnabled: e.ra?.enabled ?? false, owner };
  return {
    name: e.name,
    owner,
    raEnabled: e.ra?.enabled ?? false,
    profile,
    authorizer: new AccountAuthorizer(e.id, d.accounts, d.clock),
    hooks: NO_HOOKS,
  };
}
