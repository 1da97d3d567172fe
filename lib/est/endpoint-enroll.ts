import type { ChallengeResult } from '../challenge/types.js';
import type { IssuedCertificate } from '../ca/issue.js';
import type { ClientCertificateRenewal, HeaderReader } from '../auth/client-cert.js';
import { parseCsr, type ParsedCsr } from '../csr/parse.js';
import { withinRenewalWindow } from '../enroll/endpoint.js';
import { reenrollIdentity } from '../enroll/reenroll-identity.js';
import type { EnrollmentRequest } from '../enroll/request.js';
import type { EnrollmentService } from '../enroll/service.js';
import { AppError } from '../errors.js';
import { csrFromBody } from '../rest/csr-body.js';
import { refusal } from '../rest/enroll.js';
import type { ScepEndpoint } from '../scep/endpoint.js';

/**
 * EST enrollment under an endpoint's label (`/.well-known/est/{label}/simpleenroll`, RFC 7030
 * §3.2.2): the endpoint's own profile, policy, authorizer and delivery hooks, as its SCEP door
 * uses them.
 *
 * - simpleenroll: the endpoint's credential (a challenge password: an account's, or the static
 *   one) as the password of HTTP Basic authentication (RFC 7030 §3.2.3), or as the CSR's
 *   challengePassword attribute (RFC 2985 §5.4.1), as SCEP clients send it. Intune endpoints
 *   enroll only over SCEP: Intune validates SCEP transactions.
 * - simplereenroll: the client certificate being renewed (mutual TLS, forwarded by the front end
 *   in the trusted header), under the shared renewal rule for this endpoint: only certificates it
 *   issued, while its profile allows renewal; the new certificate keeps their identity.
 */
export interface EndpointEstDeps {
  readonly enrollment: Pick<EnrollmentService, 'enroll' | 'deliver'>;
  /** Reads the trusted client-certificate header; undefined when none is configured. */
  readonly clientCertificates: ClientCertificateRenewal | undefined;
  readonly realm: string;
  readonly now: () => Date;
}

export interface EndpointEstRequest {
  readonly headers: HeaderReader;
  readonly readBody: () => Promise<Uint8Array>;
}

export async function enrollAtEndpoint<T>(
  d: EndpointEstDeps,
  endpoint: ScepEndpoint,
  operation: 'simpleenroll' | 'simplereenroll',
  request: EndpointEstRequest,
  render: (issued: IssuedCertificate) => T,
): Promise<T> {
  if (endpoint.unavailable !== undefined)
    throw new AppError('DEPENDENCY_UNAVAILABLE', `endpoint "${endpoint.name}" is not available`);
  // The client certificate is checked before the body is read (as api/csr does).
  const renewal =
    operation === 'simplereenroll' ? await certificateAuthorization(d, endpoint, request.headers) : undefined;
  const parsed = parseCsr(csrFromBody(await request.readBody()));
  const csr = renewal?.renewedDer ? reenrollIdentity(parsed, renewal.renewedDer) : parsed;
  const decide = renewal?.decide ?? passwordAuthorization(d, endpoint, request.headers, csr);
  const req: EnrollmentRequest = {
    endpoint: endpoint.name,
    operation: `est/${operation}`,
    csr,
    profile: endpoint.profile,
    hooks: endpoint.hooks,
    authorize: decide,
  };
  const r = await d.enrollment.enroll(req);
  if (!r.ok) throw refusal(r);
  const reply = render(r.issued);
  const delivered = await d.enrollment.deliver(req, r);
  if (!delivered.ok) throw refusal(delivered);
  return reply;
}

/** simpleenroll: the endpoint's challenge, from HTTP Basic or the CSR; checked before enroll. */
function passwordAuthorization(
  d: EndpointEstDeps,
  endpoint: ScepEndpoint,
  headers: HeaderReader,
  csr: ParsedCsr,
): () => Promise<ChallengeResult> {
  if (endpoint.hooks.notification !== 'none')
    throw new AppError('NOT_FOUND', `endpoint "${endpoint.name}" enrolls over SCEP only`);
  const challengePassword = basicPassword(headers.get('authorization')) ?? csr.challengePassword;
  if (challengePassword === undefined)
    throw new AppError('UNAUTHORIZED', "send the endpoint's challenge as the HTTP Basic password", {
      detail: { wwwAuthenticate: `Basic realm="${d.realm}", charset="UTF-8"` },
    });
  return () =>
    endpoint.authorizer.challenge({
      endpoint: endpoint.name,
      transactionId: `est-${csr.sha256.slice(0, 32)}`,
      csr,
      challengePassword,
    });
}

/** simplereenroll: the client certificate, renewable here (refusals are audited results). */
async function certificateAuthorization(
  d: EndpointEstDeps,
  endpoint: ScepEndpoint,
  headers: HeaderReader,
): Promise<{ renewedDer?: Uint8Array; decide: () => Promise<ChallengeResult> }> {
  if (!d.clientCertificates)
    throw new AppError(
      'NOT_FOUND',
      'EST re-enrollment needs a client certificate header (AppConfig__DbCSRValidation__ClientCertificateHeader)',
    );
  if (!d.clientCertificates.present(headers))
    throw new AppError('UNAUTHORIZED', 'present the certificate being renewed as the TLS client certificate');
  const r = await d.clientCertificates.authorize(headers, { kind: 'scep', endpoint: endpoint.name });
  if (!r.ok) {
    const refused: ChallengeResult = { ok: false, reason: r.reason, detail: r.message };
    return { decide: () => Promise.resolve(refused) };
  }
  const policy = endpoint.profile.renewal;
  const result: ChallengeResult =
    policy.allowed && withinRenewalWindow(policy, new Date(r.record.notAfter), d.now())
      ? {
          ok: true,
          authorization: 'renewal',
          requester: `certificate:${r.serialNumber}`,
          renewal: r.grant,
        }
      : {
          ok: false,
          reason: 'renewal-not-allowed',
          detail: `endpoint "${endpoint.name}" does not renew this certificate now`,
        };
  return { renewedDer: r.certificateDer, decide: () => Promise.resolve(result) };
}

/** The password of an `Authorization: Basic` header (RFC 7617); the user name is not used. */
function basicPassword(value: string | null | undefined): string | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(value ?? '');
  if (!m?.[1]) return undefined;
  const text = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = text.indexOf(':');
  return colon < 0 ? undefined : text.slice(colon + 1);
}
