import { randomUUID } from 'node:crypto';
import { ServiceDiscovery, INTUNE_APP_ID } from './discovery.js';
import { exchange, type FetchLike, parseJsonObject, stringField } from './http.js';
import { type ClientCredential, TokenProvider } from './tokens.js';
import type { IntuneFailure, IntuneResult } from './types.js';

/**
 * Client of Intune's third-party SCEP validation service (Microsoft's
 * Intune-Resource-Access SCEP validation library):
 * `POST {ScepRequestValidationFEService uri}/ScepActions/{validateRequest|successNotification|
 * failureNotification}` with an app-only token for `https://api.manage.microsoft.com//.default`.
 * Like the reference libraries it never retries (§3.6): retrying validateRequest is the
 * caller's decision, and notifications are retried by the queue worker.
 */

export const SCEP_SERVICE_NAME = 'ScepRequestValidationFEService';

/**
 * Answers that say the discovered address itself may be stale (moved, gone, misdirected):
 * only these, and unreachable hosts, refresh discovery. A 5xx or a timeout is the service
 * having a bad moment at the right address; re-reading Graph then only doubles the calls.
 */
const STALE_STATUSES = new Set([301, 302, 307, 308, 404, 410, 421]);

export interface IntuneClientOptions {
  readonly tenantId: string;
  readonly clientId: string;
  readonly credential: ClientCredential;
  /** Sent as `callerInfo` and as the `UserAgent`/`User-Agent` headers (PROVIDER_NAME_AND_VERSION). */
  readonly providerNameAndVersion: string;
  /** Default `https://login.microsoftonline.com/` (AUTH_AUTHORITY). */
  readonly authority?: string;
  /** Default `https://graph.microsoft.com/` (MS_GRAPH_RESOURCE_URL). */
  readonly graphBase?: string;
  /** Default `1.0` (MS_GRAPH_API_VERSION). */
  readonly graphVersion?: string;
  /** Default `https://api.manage.microsoft.com/` (INTUNE_RESOURCE_URL). */
  readonly intuneResource?: string;
  readonly intuneAppId?: string;
  /** The `api-version` header. Default `2018-02-20` (ScepRequestValidationFEServiceVersion). */
  readonly scepApiVersion?: string;
  /** Time box of each HTTP exchange (token, discovery, Intune call). Default 30 s. */
  readonly timeoutMs?: number;
  readonly fetch?: FetchLike;
  readonly now?: () => number;
}

export interface SuccessNotificationInput {
  readonly transactionId: string;
  /** The same base64 DER CSR that was validated. */
  readonly certificateRequest: string;
  /** SHA-1 of the issued certificate, hex; sent upper-case without separators. */
  readonly certificateThumbprint: string;
  /** Serial number, hex (the store's canonical lower-case form). */
  readonly certificateSerialNumber: string;
  /** notAfter; sent as ISO 8601 UTC (`2026-01-31T12:00:00.000Z`). */
  readonly certificateExpiration: Date | string;
  /** Issuer DN of the certificate. */
  readonly issuingCertificateAuthority: string;
  readonly caConfiguration?: string | undefined;
  readonly certificateAuthority?: string | undefined;
}

export interface FailureNotificationInput {
  readonly transactionId: string;
  readonly certificateRequest: string;
  /** 32-bit HRESULT (MS-ERREF); sent as a signed 32-bit number like the Java reference. */
  readonly hResult: number;
  /** Shown to the admin in the Intune console; cut to 255 characters. */
  readonly errorDescription: string;
}

export const MAX_ERROR_DESCRIPTION = 255;

export class IntuneClient {
  readonly tokens: TokenProvider;
  readonly discovery: ServiceDiscovery;
  private readonly fetchImpl: FetchLike;
  private readonly timeoutMs: number;
  private readonly apiVersion: string;
  /** `https://api.manage.microsoft.com//.default`: the resource URL ends in "/" and the
   * reference code appends "/.default", so the scope has a DOUBLE slash (§2). */
  readonly intuneScope: string;

  constructor(private readonly opts: IntuneClientOptions) {
    this.fetchImpl = opts.fetch ?? fetch;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.apiVersion = opts.scepApiVersion ?? '2018-02-20';
    const resource = opts.intuneResource ?? 'https://api.manage.microsoft.com/';
    this.intuneScope = `${resource.endsWith('/') ? resource : `${resource}/`}/.default`;
    this.tokens = new TokenProvider({
      authority: opts.authority ?? 'https://login.microsoftonline.com/',
      tenantId: opts.tenantId,
      clientId: opts.clientId,
      credential: opts.credential,
      timeoutMs: this.timeoutMs,
      fetch: this.fetchImpl,
      ...(opts.now ? { now: opts.now } : {}),
    });
    this.discovery = new ServiceDiscovery({
      graphBase: opts.graphBase ?? 'https://graph.microsoft.com/',
      graphVersion: opts.graphVersion ?? '1.0',
      intuneAppId: opts.intuneAppId ?? INTUNE_APP_ID,
      tokens: this.tokens,
      timeoutMs: this.timeoutMs,
      fetch: this.fetchImpl,
      ...(opts.now ? { now: opts.now } : {}),
    });
  }

  /** §3.1: `{ "request": { transactionId, certificateRequest, callerInfo } }`. */
  validateRequest(
    transactionId: string,
    certificateRequest: string,
    signal?: AbortSignal,
  ): Promise<IntuneResult> {
    if (transactionId === '' || certificateRequest === '') {
      return Promise.resolve(invalid('transactionId and certificateRequest must not be empty'));
    }
    const body = {
      request: { transactionId, certificateRequest, callerInfo: this.opts.providerNameAndVersion },
    };
    return this.post('validateRequest', body, signal);
  }

  /** §3.2: `{ "notification": { …the issued certificate… } }`; optional CA fields omitted when unset. */
  successNotification(n: SuccessNotificationInput, signal?: AbortSignal): Promise<IntuneResult> {
    if (n.transactionId === '' || n.certificateRequest === '') {
      return Promise.resolve(invalid('transactionId and certificateRequest must not be empty'));
    }
    const expiration =
      n.certificateExpiration instanceof Date
        ? n.certificateExpiration.toISOString()
        : new Date(n.certificateExpiration).toISOString();
    const notification: Record<string, string> = {
      transactionId: n.transactionId,
      certificateRequest: n.certificateRequest,
      certificateThumbprint: n.certificateThumbprint.replace(/[^0-9a-f]/gi, '').toUpperCase(),
      certificateSerialNumber: n.certificateSerialNumber,
      certificateExpirationDateUtc: expiration,
      issuingCertificateAuthority: n.issuingCertificateAuthority,
      callerInfo: this.opts.providerNameAndVersion,
    };
    if (n.caConfiguration !== undefined) notification.caConfiguration = n.caConfiguration;
    if (n.certificateAuthority !== undefined) notification.certificateAuthority = n.certificateAuthority;
    return this.post('successNotification', { notification }, signal);
  }

  /** §3.3: `{ "notification": { transactionId, certificateRequest, hResult, errorDescription, callerInfo } }`. */
  failureNotification(n: FailureNotificationInput, signal?: AbortSignal): Promise<IntuneResult> {
    if (n.transactionId === '' || n.certificateRequest === '' || !Number.isInteger(n.hResult)) {
      return Promise.resolve(
        invalid('transactionId, certificateRequest and an integer hResult are required'),
      );
    }
    const notification = {
      transactionId: n.transactionId,
      certificateRequest: n.certificateRequest,
      hResult: n.hResult | 0,
      errorDescription: truncateDescription(n.errorDescription),
      callerInfo: this.opts.providerNameAndVersion,
    };
    return this.post('failureNotification', { notification }, signal);
  }

  private async post(action: string, body: object, signal?: AbortSignal): Promise<IntuneResult> {
    const service = await this.discovery.lookup(SCEP_SERVICE_NAME, signal);
    if (!service.ok) return service;
    const token = await this.tokens.getToken(this.intuneScope, signal);
    if (!token.ok) return token;
    const activityId = randomUUID();
    const res = await exchange(
      this.fetchImpl,
      `${service.uri}/ScepActions/${action}`,
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token.token}`,
          'content-type': 'application/json',
          'client-request-id': activityId,
          'api-version': this.apiVersion,
          // Java library parity: a header literally named "UserAgent"; plus the standard one.
          UserAgent: this.opts.providerNameAndVersion,
          'user-agent': this.opts.providerNameAndVersion,
        },
        body: JSON.stringify(body),
      },
      this.timeoutMs,
      signal,
    );
    if (!res.ok) {
      // A service that cannot be reached may have moved (§1c); one that is slow has not.
      if (res.kind === 'network') this.discovery.invalidate();
      return { ok: false, kind: res.kind, message: `${action}: ${res.message}`, activityId };
    }
    return this.answer(action, res, activityId);
  }

  /** The Intune answer to a call that got an HTTP response (§3.4), dropping stale routes and tokens. */
  private answer(action: string, res: { status: number; body: string }, activityId: string): IntuneResult {
    const json = parseJsonObject(res.body);
    const code = stringField(json, 'code');
    const errorDescription = stringField(json, 'errorDescription');
    if (res.status < 200 || res.status > 299) {
      if (STALE_STATUSES.has(res.status)) this.discovery.invalidate();
      if (res.status === 401) this.tokens.invalidate(this.intuneScope);
      return {
        ok: false,
        kind: 'http',
        httpStatus: res.status,
        code,
        errorDescription,
        message: `${action} answered HTTP ${res.status}${json ? '' : ' (body is not JSON)'}`,
        activityId,
      };
    }
    if (code === undefined) {
      return {
        ok: false,
        kind: 'bad-response',
        httpStatus: res.status,
        message: `${action} answered HTTP ${res.status} without a JSON "code"`,
        activityId,
      };
    }
    // §3.4: success <=> HTTP 2xx AND code == "Success" (exact, case-sensitive).
    if (code === 'Success') return { ok: true, code, errorDescription: errorDescription ?? '', activityId };
    return {
      ok: false,
      kind: 'code',
      code,
      errorDescription,
      httpStatus: res.status,
      message: `${action} answered ${code}`,
      activityId,
    };
  }
}

/**
 * "errorDescription … max 255 chars" (library doc): counted in UTF-16 units as .NET counts
 * them, cut on a code point boundary; never empty (the library requires a description).
 */
export function truncateDescription(s: string): string {
  const text = s.trim() === '' ? 'Certificate issuance failed' : s;
  if (text.length <= MAX_ERROR_DESCRIPTION) return text;
  let out = '';
  for (const ch of text) {
    if (out.length + ch.length > MAX_ERROR_DESCRIPTION) break;
    out += ch;
  }
  return out;
}

function invalid(message: string): IntuneFailure {
  return { ok: false, kind: 'invalid-argument', message };
}
