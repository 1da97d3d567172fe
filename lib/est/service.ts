import type { IssuedCertificate } from '../ca/issue.js';
import { AppError } from '../errors.js';
import type { ScepEndpoint } from '../scep/endpoint.js';
import { enrollAtEndpoint, type EndpointEstDeps } from './endpoint-enroll.js';
import type { HeaderReader } from '../auth/client-cert.js';
import { issueRest, type RestEnrollment, type RestIssueDeps } from '../rest/enroll.js';
import { base64CertsOnly, CERTS_ONLY_MEDIA_TYPE } from './pkcs7.js';

/**
 * EST (RFC 7030) as a thin adapter over the REST enrollment API: the same authorization
 * (an Entra ID token with the CSR.Request.Db role, or for renewal the client certificate being
 * renewed), the same CSR policy, the same record-before-return rule; only the framing differs.
 *
 * | path (under `/.well-known/est/[label/]`) | method | answer                                        |
 * |-------------------------------------------|--------|-----------------------------------------------|
 * | `cacerts` (§4.1)                          | GET    | CA chain, base64 certs-only PKCS#7             |
 * | `simpleenroll` (§4.2.1)                   | POST   | the certificate, base64 certs-only PKCS#7      |
 * | `simplereenroll` (§4.2.2)                 | POST   | same; client certificate only (mTLS)           |
 * | `csrattrs` (§4.5)                         | GET    | 204: no attributes are required               |
 *
 * `fullcmc` and `serverkeygen` are optional in RFC 7030 and not offered (404). A label
 * (§3.2.2) must name an enabled endpoint: without a label or under `api`, enrollment is the REST
 * API's (Entra token, its profile); under another label it is that endpoint's, with its
 * challenge and profile (lib/est/endpoint-enroll.ts).
 */
export interface EstDeps {
  /** The CA certificate, then its issuers. */
  readonly caChainDer: readonly Uint8Array[];
  /** The enabled endpoint a label names (SCEP endpoints; `api` is the REST API's). */
  readonly endpoint: (name: string) => Promise<ScepEndpoint | undefined>;
  /** Enrollment under an endpoint's label. */
  readonly atEndpoint: EndpointEstDeps;
  /** Undefined when the REST API is off: then only `cacerts` and `csrattrs` answer. */
  readonly rest: RestEnrollment | undefined;
  readonly issue: RestIssueDeps;
}

export interface EstRequest {
  readonly method: string;
  /** The path below `/.well-known/est/`, e.g. `simpleenroll` or `static/cacerts`. */
  readonly path: string;
  readonly headers: HeaderReader;
  readonly readBody: () => Promise<Uint8Array>;
}

export interface EstResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body?: string;
}

const OPERATIONS = ['cacerts', 'simpleenroll', 'simplereenroll', 'csrattrs'] as const;
type Operation = (typeof OPERATIONS)[number];
const METHOD: Record<Operation, string> = {
  cacerts: 'GET',
  simpleenroll: 'POST',
  simplereenroll: 'POST',
  csrattrs: 'GET',
};

export async function handleEst(deps: EstDeps, req: EstRequest): Promise<EstResponse> {
  const { label, operation } = route(req.path);
  const endpoint = label === undefined || label === 'api' ? undefined : await deps.endpoint(label);
  if (label !== undefined && label !== 'api' && !endpoint) {
    throw new AppError('UNKNOWN_ENDPOINT', `there is no endpoint named "${label.slice(0, 40)}"`);
  }
  if (req.method.toUpperCase() !== METHOD[operation]) {
    throw new AppError('METHOD_NOT_ALLOWED', `EST ${operation} takes ${METHOD[operation]}`);
  }
  switch (operation) {
    case 'cacerts':
      return certs('application/pkcs7-mime', deps.caChainDer);
    case 'csrattrs':
      return { status: 204, headers: {} };
    case 'simpleenroll':
    case 'simplereenroll': {
      const render = (issued: IssuedCertificate): EstResponse => certs(CERTS_ONLY_MEDIA_TYPE, [issued.der]);
      if (endpoint) return enrollAtEndpoint(deps.atEndpoint, endpoint, operation, req, render);
      if (!deps.rest) {
        throw new AppError(
          'NOT_FOUND',
          'EST enrollment needs the REST enrollment API (AppConfig__DbCSRValidation__Enabled)',
        );
      }
      return issueRest(
        deps.rest,
        deps.issue,
        req,
        { operation: `est/${operation}`, renewalOnly: operation === 'simplereenroll' },
        render,
      );
    }
  }
}

function certs(contentType: string, ders: readonly Uint8Array[]): EstResponse {
  return {
    status: 200,
    headers: { 'content-type': contentType, 'content-transfer-encoding': 'base64' },
    body: base64CertsOnly(ders),
  };
}

function route(path: string): { label?: string; operation: Operation } {
  const parts = path.split('/').filter((p) => p !== '');
  const op = (parts.pop() ?? '').toLowerCase();
  const operation = OPERATIONS.find((o) => o === op);
  if (!operation || parts.length > 1) {
    throw new AppError(
      'NOT_FOUND',
      `unknown EST operation "${op.slice(0, 40)}" (cacerts, simpleenroll, simplereenroll, csrattrs)`,
    );
  }
  const label = parts[0]?.toLowerCase();
  return label === undefined ? { operation } : { label, operation };
}
