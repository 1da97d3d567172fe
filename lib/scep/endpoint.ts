import type { Authorizer, EnrollmentProfile, IssuanceHooks } from '../enroll/endpoint.js';

/**
 * One SCEP endpoint (`scep/{name}`) as the SCEP code receives it: resolved once per request
 * (lib/endpoints/registry.ts), carrying its profile, its authorizer and its issuance hooks.
 * `static` and `intune` come from settings; every other endpoint from the store.
 */
export interface ScepEndpoint {
  readonly name: string;
  readonly profile: EnrollmentProfile;
  readonly authorizer: Authorizer;
  readonly hooks: IssuanceHooks;
}
