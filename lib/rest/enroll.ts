import type { CertificateIssuer, IssuedCertificate } from '../ca/issue.js';
import { restValidityDays, type RestSettings } from '../config/rest.js';
import { parseCsr, type ParsedCsr } from '../csr/parse.js';
import { DEFAULT_POLICY } from '../csr/policy.js';
import { NO_HOOKS, type EnrollmentProfile } from '../enroll/endpoint.js';
import { reenrollIdentity } from '../enroll/reenroll-identity.js';
import type { EnrollmentRequest, EnrollmentResult } from '../enroll/request.js';
import type { EnrollmentService } from '../enroll/service.js';
import { AppError, type ErrorCode } from '../errors.js';
import type { HeaderReader } from '../auth/client-cert.js';
import {
  authenticateCsrRequest,
  authorizeCsr,
  type CsrAuthorization,
  type RestAuthDeps,
} from './authorize.js';
import { csrFromBody } from './csr-body.js';
import { certificateBody } from './response.js';

export interface RestEnrollment {
  readonly settings: RestSettings;
  readonly auth: RestAuthDeps;
  readonly profile: EnrollmentProfile;
}

export function restEnrollment(
  settings: RestSettings,
  auth: RestAuthDeps,
  globalValidityDays: number,
): RestEnrollment {
  return {
    settings,
    auth,
    profile: {
      issuance: {
        validityDays: restValidityDays(settings, globalValidityDays),
        keyUsage: settings.keyUsage,
        ekus: settings.ekus,
      },
      policy: DEFAULT_POLICY,
      // Renewal over REST is the client-certificate credential (lib/rest/authorize.ts).
      renewal: { allowed: settings.allowRenewals, revokeSuperseded: settings.revokeSuperseded },
      replyCipher: 'auto',
      storeCertificate: true,
    },
  };
}

export interface RestIssueDeps {
  readonly enrollment: EnrollmentService;
  readonly issuer: CertificateIssuer;
  readonly chainDer: readonly Uint8Array[];
}

export interface RestIssueRequest {
  readonly headers: HeaderReader;
  readonly readBody: () => Promise<Uint8Array>;
}

const STATUS_OF: Record<string, ErrorCode> = {
  unauthorized: 'FORBIDDEN',
  policy: 'POLICY_REJECTED',
  conflict: 'CONFLICT',
  unavailable: 'DEPENDENCY_UNAVAILABLE',
};

/**
 * POST api/csr (SCEPman's "API Enrollment"): authenticate (Entra ID token, or a client
 * certificate for renewal) before the body is read, then the same issuance path as SCEP:
 * same CSR validators, same record-before-return rule.
 */
export async function enrollRest(
  rest: RestEnrollment,
  deps: RestIssueDeps,
  request: RestIssueRequest & { accept: string | null; chain: string | null },
): Promise<{ contentType: string; body: Uint8Array }> {
  return issueRest(rest, deps, request, { operation: 'api/csr' }, (issued) =>
    certificateBody(issued.der, [deps.issuer.ca.der, ...deps.chainDer], request.accept, request.chain),
  );
}

/**
 * The issuance behind `POST api/csr` and EST simpleenroll / simplereenroll (lib/est): one
 * authorization, one CSR policy, one renewal rule and one renewal identity for both.
 * `renewalOnly`: only a client certificate (renewal) is accepted. `render` produces the reply;
 * the certificate is delivered (hooks, the "issued" audit event) only once the reply exists.
 */
export async function issueRest<T>(
  rest: RestEnrollment,
  deps: RestIssueDeps,
  request: RestIssueRequest,
  o: { readonly operation: string; readonly renewalOnly?: boolean },
  render: (issued: IssuedCertificate) => T,
): Promise<T> {
  const credential = await authenticateCsrRequest(request.headers, rest.auth, o);
  const csr = parseCsr(csrFromBody(await request.readBody()));
  // Decided before policy runs, because a renewal is checked and issued with the identity of
  // the certificate it renews; a failure to decide (store down) surfaces through `authorize`.
  const decision = authorizeCsr(credential, request.headers, rest.auth);
  const decided = await decision.catch(() => undefined);
  const req: EnrollmentRequest = {
    endpoint: 'api',
    operation: o.operation,
    csr: decided ? renewedIdentity(decided, csr) : csr,
    profile: rest.profile,
    hooks: NO_HOOKS,
    authorize: () => decision,
  };
  const r = await deps.enrollment.enroll(req);
  if (!r.ok) throw refusal(r);
  const reply = render(r.issued);
  const delivered = await deps.enrollment.deliver(req, r);
  if (!delivered.ok) throw refusal(delivered);
  return reply;
}

/**
 * A renewal over mTLS keeps the identity of the certificate it renews: only the CSR's public
 * key is used (lib/enroll/reenroll-identity.ts); its profile and endpoint come from the renewal
 * rule's grant.
 */
function renewedIdentity(auth: CsrAuthorization, csr: ParsedCsr): ParsedCsr {
  if (!auth.ok || auth.renewedCertificateDer === undefined) return csr;
  return reenrollIdentity(csr, auth.renewedCertificateDer);
}

export function refusal(r: Extract<EnrollmentResult, { ok: false }>): AppError {
  const message = r.kind === 'unauthorized' || r.kind === 'policy' ? `${r.message}: ${r.reason}` : r.message;
  return new AppError(STATUS_OF[r.kind] ?? 'INTERNAL', message, { detail: { reason: r.reason } });
}
