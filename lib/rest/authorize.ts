import type { CertificateRecord } from '../store/types.js';
import type { RenewalGrant, RenewalRule } from '../enroll/renewal-rule.js';
import type { RestSettings } from '../config/rest.js';
import { AppError } from '../errors.js';
import { EntraTokenValidator, authFailureError, type EntraPrincipal } from '../auth/entra.js';
import {
  ClientCertificateRenewal,
  type HeaderReader,
  type RenewalRefusalReason,
} from '../auth/client-cert.js';

/**
 * Who may call `POST /api/csr`, in two steps around body parsing so that an unauthenticated
 * caller is told 401 before its body is looked at:
 *
 * 1. `authenticateCsrRequest(headers)`: an `Authorization: Bearer` token is validated (and wins
 *    when a client certificate is also present); otherwise a client certificate in the trusted
 *    header is noted for step 2 when renewal is enabled; otherwise 401.
 * 2. `authorizeCsr(credential, headers)`: a token authorizes any CSR (policy validators
 *    still apply); a client certificate authorizes the renewal rule's re-issue of itself: the
 *    profile of the endpoint that issued it, and its identity (lib/enroll/reenroll-identity.ts).
 *
 * Step 1 throws AppError UNAUTHORIZED / FORBIDDEN with `detail.reason` and
 * `detail.wwwAuthenticate` (the RFC 6750 challenge, which lib/http/errors.ts sends). Step 2
 * returns a result (see CsrAuthorization). Both throw DEPENDENCY_UNAVAILABLE when the Entra keys
 * or the store cannot be reached.
 */

export interface RestAuthDeps {
  readonly tokens: EntraTokenValidator;
  /** Undefined when AllowRenewals is off or no client certificate header is configured. */
  readonly renewal: ClientCertificateRenewal | undefined;
  /** WWW-Authenticate realm, e.g. the app's base URL. */
  readonly realm?: string;
}

/**
 * Build the REST API's authenticators once per worker (composition root) from the validated
 * settings, the CA certificate(s) and the store.
 */
export function createRestAuth(
  rest: RestSettings,
  o: {
    /** The shared renewal rule (lib/enroll/renewal-rule.ts). */
    readonly rule: RenewalRule;
    readonly realm?: string;
    readonly now?: () => Date;
  },
): RestAuthDeps {
  const { tenantId, audiences, requiredRole, authorityHost, jwksUrl } = rest.auth;
  if (tenantId === undefined || audiences.length === 0) {
    throw new AppError(
      'CONFIG_INVALID',
      'the REST API needs AppConfig__AuthConfig__TenantId and an audience',
    );
  }
  const now = o.now ?? (() => new Date());
  const tokens = new EntraTokenValidator({ tenantId, audiences, requiredRole, authorityHost, jwksUrl, now });
  const renewal =
    rest.allowRenewals && rest.clientCertificateHeader !== undefined
      ? new ClientCertificateRenewal({
          header: rest.clientCertificateHeader,
          rule: o.rule,
          allowedAuthorizations: rest.renewableAuthorizations,
        })
      : undefined;
  return o.realm === undefined ? { tokens, renewal } : { tokens, renewal, realm: o.realm };
}

export type RestCredential =
  { readonly kind: 'token'; readonly principal: EntraPrincipal } | { readonly kind: 'client-certificate' };

/**
 * The outcome of step 2, shaped as a ChallengeResult (lib/challenge/types.ts) so that it can be
 * returned from EnrollmentService's `authorize` callback as it is; refusals are results, not
 * throws (a throw there means "could not decide": store or key set unavailable).
 */
export type CsrAuthorization =
  | {
      readonly ok: true;
      /** Recorded on the certificate document. */
      readonly authorization: 'api' | 'renewal';
      /** `entra:<object id>` or `certificate:<serial>`, for the record and the audit event. */
      readonly requester: string;
      readonly principal?: EntraPrincipal;
      /** The certificate being renewed: its record and its DER. */
      readonly renewedFrom?: CertificateRecord;
      readonly renewedCertificateDer?: Uint8Array;
      /** The renewal's profile and `renewalOf` (the original endpoint's, never the REST one). */
      readonly renewal?: RenewalGrant;
    }
  | { readonly ok: false; readonly reason: RenewalRefusalReason; readonly detail: string };

/**
 * `renewalOnly` (EST simplereenroll, RFC 7030 §4.2.2): only the client certificate being
 * renewed is accepted, whether or not a token comes with it.
 */
export async function authenticateCsrRequest(
  headers: HeaderReader,
  deps: RestAuthDeps,
  o: { readonly renewalOnly?: boolean } = {},
): Promise<RestCredential> {
  if (o.renewalOnly) {
    if (!deps.renewal) {
      throw new AppError('FORBIDDEN', 'renewal with a client certificate is not enabled', {
        detail: { reason: 'not_configured' },
      });
    }
    if (!deps.renewal.present(headers)) {
      throw new AppError(
        'UNAUTHORIZED',
        'present the certificate being renewed as the TLS client certificate',
        {
          detail: { reason: 'no_client_certificate' },
        },
      );
    }
    return { kind: 'client-certificate' };
  }
  const authorization = headers.get('authorization');
  if ((authorization ?? '').trim() === '' && deps.renewal?.present(headers))
    return { kind: 'client-certificate' };
  const r = await deps.tokens.validate(authorization);
  if (!r.ok) throw authFailureError(r, deps.realm);
  return { kind: 'token', principal: r.principal };
}

export async function authorizeCsr(
  credential: RestCredential,
  headers: HeaderReader,
  deps: RestAuthDeps,
): Promise<CsrAuthorization> {
  if (credential.kind === 'token') {
    const { principal } = credential;
    return { ok: true, authorization: 'api', requester: `entra:${principal.oid}`, principal };
  }
  if (!deps.renewal)
    return { ok: false, reason: 'not_configured', detail: 'renewal with a client certificate is off' };
  const r = await deps.renewal.authorize(headers);
  if (!r.ok) return { ok: false, reason: r.reason, detail: r.message };
  return {
    ok: true,
    authorization: 'renewal',
    requester: `certificate:${r.serialNumber}`,
    renewedFrom: r.record,
    renewedCertificateDer: r.certificateDer,
    renewal: r.grant,
  };
}
