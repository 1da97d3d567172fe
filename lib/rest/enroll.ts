import type { CertificateIssuer, IssuedCertificate } from '../ca/issue.js';
import type { ChallengeResult } from '../challenge/types.js';
import { restValidityDays, type RestSettings } from '../config/rest.js';
import { parseCsr, type ParsedCsr } from '../csr/parse.js';
import { DEFAULT_POLICY } from '../csr/policy.js';
import { NO_HOOKS, type EnrollmentProfile } from '../enroll/endpoint.js';
import { reenrollment } from '../enroll/reenroll-identity.js';
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
  /** The current profile of an endpoint (`api` or a SCEP endpoint), for renewals. */
  readonly profileOf: (endpoint: string) => Promise<EnrollmentProfile | undefined>;
}

export function restEnrollment(
  settings: RestSettings,
  auth: RestAuthDeps,
  globalValidityDays: number,
  endpointProfile: (endpoint: string) => Promise<EnrollmentProfile | undefined>,
): RestEnrollment {
  const profile: EnrollmentProfile = {
    issuance: {
      validityDays: restValidityDays(settings, globalValidityDays),
      keyUsage: settings.keyUsage,
      ekus: settings.ekus,
    },
    policy: DEFAULT_POLICY,
    // Renewal over REST is the client-certificate credential (lib/rest/authorize.ts).
    renewal: { allowed: settings.allowRenewals },
    replyCipher: 'auto',
    storeCertificate: true,
  };
  return {
    settings,
    auth,
    profile,
    profileOf: (endpoint) => (endpoint === 'api' ? Promise.resolve(profile) : endpointProfile(endpoint)),
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
  const issued = await issueRest(rest, deps, request, { operation: 'api/csr' });
  return certificateBody(issued.der, [deps.issuer.ca.der, ...deps.chainDer], request.accept, request.chain);
}

/**
 * The issuance behind `POST api/csr` and EST simpleenroll / simplereenroll (lib/est): one
 * authorization, one CSR policy, one renewal identity rule for both.
 * `renewalOnly`: only a client certificate (renewal) is accepted.
 */
export async function issueRest(
  rest: RestEnrollment,
  deps: RestIssueDeps,
  request: RestIssueRequest,
  o: { readonly operation: string; readonly renewalOnly?: boolean },
): Promise<IssuedCertificate> {
  const credential = await authenticateCsrRequest(request.headers, rest.auth, o);
  const csr = parseCsr(csrFromBody(await request.readBody()));
  // Decided before policy runs, because a renewal is checked and issued with the identity of
  // the certificate it renews; a failure to decide (store down) surfaces through `authorize`.
  const decision = authorizeCsr(credential, request.headers, rest.auth).then((a) => identity(a, csr, rest));
  const decided = await decision.catch(() => undefined);
  const r = await deps.enrollment.enroll({
    endpoint: decided?.endpoint ?? 'api',
    operation: o.operation,
    csr: decided?.csr ?? csr,
    profile: decided?.profile ?? rest.profile,
    hooks: NO_HOOKS,
    authorize: async () => (await decision).result,
  });
  if (!r.ok) {
    const message =
      r.kind === 'unauthorized' || r.kind === 'policy' ? `${r.message}: ${r.reason}` : r.message;
    throw new AppError(STATUS_OF[r.kind] ?? 'INTERNAL', message, { detail: { reason: r.reason } });
  }
  return r.issued;
}

interface Decision {
  readonly result: ChallengeResult;
  readonly csr?: ParsedCsr;
  readonly profile?: EnrollmentProfile;
  readonly endpoint?: string;
}

/** A renewal gets the identity and the profile of the certificate it renews. */
async function identity(auth: CsrAuthorization, csr: ParsedCsr, rest: RestEnrollment): Promise<Decision> {
  if (!auth.ok || !auth.renewedFrom || !auth.renewedCertificateDer) return { result: auth };
  const re = await reenrollment(
    csr,
    { certificateDer: auth.renewedCertificateDer, record: auth.renewedFrom },
    rest.profileOf,
  );
  if (!re.ok) return { result: { ok: false, reason: re.reason, detail: re.detail } };
  return { result: auth, csr: re.csr, profile: re.profile, endpoint: re.endpoint };
}
