import type { IssuanceProfile } from '../ca/issue.js';
import type { ResponseCipher } from '../config/core.js';
import type { Responder } from '../ra/responder.js';
import { DEFAULT_POLICY } from '../csr/policy.js';
import { NO_HOOKS, type Authorizer, type EnrollmentProfile, type IssuanceHooks } from '../enroll/endpoint.js';

/**
 * One SCEP endpoint (`scep/{name}`) as the SCEP code receives it: resolved once per request
 * (lib/endpoints/registry.ts), carrying its profile, its authorizer and its issuance hooks.
 * `static` and `intune` come from settings; every other endpoint from the store.
 */
export interface ScepEndpoint {
  readonly name: string;
  /**
   * A configuration problem that keeps this endpoint from serving (an unresolved Key Vault
   * reference in its secret): every request is answered 503 and the problem is logged.
   */
  readonly unavailable?: string;
  readonly profile: EnrollmentProfile;
  readonly authorizer: Authorizer;
  readonly hooks: IssuanceHooks;
  /** RA mode (RFC 8894 §2.2): an RA key of its own answers for it (lib/ra/). */
  readonly raEnabled?: boolean;
  /** Who signs CertReps and opens envelopes; attached per request; absent = the CA. */
  readonly responder?: Responder;
  /**
   * The organization (and department) the endpoint is delegated to, when it is exactly one:
   * every audit event of the endpoint carries it, so its administrators see their refusals.
   */
  readonly owner?: { readonly organization?: string; readonly department?: string };
}

/**
 * An endpoint whose configuration cannot be used: it answers 503 (ScepService) and, should it
 * ever be asked, its authorizer refuses everything.
 */
export function unavailableEndpoint(
  name: string,
  problem: string,
  issuance: IssuanceProfile,
  replyCipher: ResponseCipher = 'auto',
): ScepEndpoint {
  return {
    name,
    unavailable: problem,
    profile: {
      issuance,
      policy: DEFAULT_POLICY,
      renewal: { allowed: false },
      replyCipher,
      storeCertificate: false,
    },
    authorizer: {
      challenge: () =>
        Promise.resolve({
          ok: false,
          reason: 'endpoint-unavailable',
          detail: 'the endpoint is not configured',
        }),
      refusalIsFinal: true,
    },
    hooks: NO_HOOKS,
  };
}
