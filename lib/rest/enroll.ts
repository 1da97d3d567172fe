import type { CertificateIssuer } from '../ca/issue.js';
import { restValidityDays, type RestSettings } from '../config/rest.js';
import { parseCsr } from '../csr/parse.js';
import { DEFAULT_POLICY } from '../csr/policy.js';
import { NO_HOOKS, type EnrollmentProfile } from '../enroll/endpoint.js';
import type { EnrollmentService } from '../enroll/service.js';
import { AppError, type ErrorCode } from '../errors.js';
import type { HeaderReader } from '../auth/client-cert.js';
import { authenticateCsrRequest, authorizeCsr, type RestAuthDeps } from './authorize.js';
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
      renewal: { allowed: settings.allowRenewals },
      replyCipher: 'auto',
      storeCertificate: true,
    },
  };
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
  deps: {
    readonly enrollment: EnrollmentService;
    readonly issuer: CertificateIssuer;
    readonly chainDer: readonly Uint8Array[];
  },
  request: {
    headers: HeaderReader;
    readBody: () => Promise<Uint8Array>;
    accept: string | null;
    chain: string | null;
  },
): Promise<{ contentType: string; body: Uint8Array }> {
  const credential = await authenticateCsrRequest(request.headers, rest.auth);
  const csr = parseCsr(csrFromBody(await request.readBody()));
  const r = await deps.enrollment.enroll({
    endpoint: 'api',
    operation: 'api/csr',
    csr,
    profile: rest.profile,
    hooks: NO_HOOKS,
    authorize: () => authorizeCsr(credential, request.headers, csr, rest.auth),
  });
  if (!r.ok) {
    const message =
      r.kind === 'unauthorized' || r.kind === 'policy' ? `${r.message}: ${r.reason}` : r.message;
    throw new AppError(STATUS_OF[r.kind] ?? 'INTERNAL', message, { detail: { reason: r.reason } });
  }
  return certificateBody(r.issued.der, [deps.issuer.ca.der, ...deps.chainDer], request.accept, request.chain);
}
