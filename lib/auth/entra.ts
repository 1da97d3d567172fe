import {
  createRemoteJWKSet,
  decodeProtectedHeader,
  errors,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import { AppError, dependencyUnavailable } from '../errors.js';

/**
 * Entra ID (Azure AD) access tokens for the REST API: RS256 JWTs signed with the tenant's keys,
 * published as a JWKS. Microsoft identity platform, "Validate tokens": check the signature
 * against the published keys, the issuer for the tenant, the audience for this API, the
 * lifetime (exp, nbf), and authorize on the app role in `roles`.
 */

export type AuthFailureReason =
  | 'missing_token' // no Authorization: Bearer header
  | 'malformed_token' // not a JWS compact JWT, required claims missing, or an ID token
  | 'bad_algorithm' // anything but RS256 (none, HS256 with the public key, ...)
  | 'unknown_key' // kid not in the tenant's JWKS, even after a refresh
  | 'bad_signature'
  | 'expired'
  | 'not_yet_valid'
  | 'wrong_tenant'
  | 'wrong_issuer'
  | 'wrong_audience'
  | 'missing_role'; // 403: a valid token without the app role

export interface EntraPrincipal {
  /** Object id of the caller (service principal, managed identity or user). */
  readonly oid: string;
  /** Client id of the calling application: `appid` (v1 tokens) or `azp` (v2 tokens). */
  readonly appId: string;
  readonly tid: string;
  readonly sub: string | undefined;
  readonly roles: readonly string[];
  /** Security group object ids (`groups` claim; present when the app registration asks for them). */
  readonly groups: readonly string[];
  readonly tokenVersion: '1.0' | '2.0';
  /** True for a delegated (user) token, which carries `scp`. */
  readonly delegated: boolean;
}

export type AuthFailure = {
  readonly ok: false;
  readonly status: 401 | 403;
  readonly reason: AuthFailureReason;
  /** Safe to show to the caller; no token content, no key material. */
  readonly message: string;
};
export type EntraAuthResult = { readonly ok: true; readonly principal: EntraPrincipal } | AuthFailure;

export interface EntraAuthOptions {
  readonly tenantId: string;
  readonly audiences: readonly string[];
  /** The app role the caller must hold, or a list of which it must hold at least one. */
  readonly requiredRole: string | readonly string[];
  /** e.g. https://login.microsoftonline.com (sovereign clouds: .us, login.partner.microsoftonline.cn). */
  readonly authorityHost: string;
  /** Defaults to `<authorityHost>/<tenant>/discovery/v2.0/keys`. */
  readonly jwksUrl?: string | undefined;
  /** exp/nbf leeway in seconds (default 60). */
  readonly clockToleranceSeconds?: number;
  readonly now?: () => Date;
  /** JWKS fetch timeout, ms (default 5000). */
  readonly jwksTimeoutMs?: number;
  /** Minimum time between refreshes triggered by an unknown kid, ms (default 30000). */
  readonly jwksCooldownMs?: number;
  /** Keys are refetched when older than this, ms (default 1 hour). */
  readonly jwksMaxAgeMs?: number;
}

/**
 * Issuers Entra writes for a tenant: v1.0 tokens `https://sts.windows.net/{tid}/` (China:
 * sts.chinacloudapi.cn), v2.0 tokens `<authority>/{tid}/v2.0`. Which one a caller gets depends
 * on the API's accessTokenAcceptedVersion, so both are accepted.
 */
export function entraIssuers(authorityHost: string, tenantId: string): string[] {
  const authority = authorityHost.replace(/\/+$/, '');
  const host = new URL(authority).hostname;
  const sts = /(\.cn)$/.test(host) ? 'https://sts.chinacloudapi.cn' : 'https://sts.windows.net';
  return [`${sts}/${tenantId}/`, `${authority}/${tenantId}/v2.0`];
}

export function defaultJwksUrl(authorityHost: string, tenantId: string): string {
  return `${authorityHost.replace(/\/+$/, '')}/${tenantId}/discovery/v2.0/keys`;
}

/** RFC 6750 §2.1 b64token. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
const MAX_HEADER = 16 * 1024;

class JwksUnavailable extends Error {}

const fail = (status: 401 | 403, reason: AuthFailureReason, message: string): AuthFailure => ({
  ok: false,
  status,
  reason,
  message,
});

export class EntraTokenValidator {
  private readonly tenantId: string;
  private readonly issuers: readonly string[];
  private readonly getKey: JWTVerifyGetKey;
  private readonly now: () => Date;
  private readonly tolerance: number;

  constructor(private readonly o: EntraAuthOptions) {
    this.tenantId = o.tenantId.toLowerCase();
    this.issuers = entraIssuers(o.authorityHost, this.tenantId);
    this.now = o.now ?? (() => new Date());
    this.tolerance = o.clockToleranceSeconds ?? 60;
    // One key set per validator (per worker): cached, refreshed on an unknown kid at most once
    // per cooldown, every fetch time-boxed.
    const remote = createRemoteJWKSet(new URL(o.jwksUrl ?? defaultJwksUrl(o.authorityHost, this.tenantId)), {
      timeoutDuration: o.jwksTimeoutMs ?? 5000,
      cooldownDuration: o.jwksCooldownMs ?? 30_000,
      cacheMaxAge: o.jwksMaxAgeMs ?? 3_600_000,
    });
    this.getKey = async (header, token) => {
      try {
        return await remote(header, token);
      } catch (e) {
        if (e instanceof errors.JWKSNoMatchingKey || e instanceof errors.JWKSMultipleMatchingKeys) throw e;
        throw new JwksUnavailable('JWKS fetch failed', { cause: e });
      }
    };
  }

  /**
   * Validate the value of an Authorization header. Resolves a principal or a typed failure;
   * throws AppError DEPENDENCY_UNAVAILABLE only when the tenant's keys cannot be fetched.
   */
  async validate(authorization: string | null | undefined): Promise<EntraAuthResult> {
    if (authorization == null || authorization.trim() === '' || !/^bearer\b/i.test(authorization.trim())) {
      return fail(401, 'missing_token', 'a bearer token is required');
    }
    const m = authorization.length <= MAX_HEADER ? BEARER.exec(authorization.trim()) : null;
    const token = m?.[1];
    if (token === undefined || token.split('.').length !== 3) {
      return fail(401, 'malformed_token', 'the bearer token is not a signed JWT');
    }
    let alg: unknown;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      return fail(401, 'malformed_token', 'the bearer token is not a signed JWT');
    }
    // Entra signs access tokens with RS256 only; refusing every other alg up front closes
    // `none` and the HS256-keyed-with-the-public-key confusion before any key is looked up.
    if (alg !== 'RS256') return fail(401, 'bad_algorithm', 'the token must be signed with RS256');

    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.getKey, {
        algorithms: ['RS256'],
        audience: [...this.o.audiences],
        clockTolerance: this.tolerance,
        currentDate: this.now(),
        requiredClaims: ['exp', 'iss', 'tid', 'oid'],
      }));
    } catch (e) {
      if (e instanceof JwksUnavailable) {
        throw dependencyUnavailable('the identity provider keys cannot be fetched', e.cause);
      }
      return classify(e);
    }
    return this.authorize(payload);
  }

  private authorize(p: JWTPayload): EntraAuthResult {
    const tid = typeof p.tid === 'string' ? p.tid.toLowerCase() : '';
    if (tid !== this.tenantId) return fail(401, 'wrong_tenant', 'the token was issued for another tenant');
    if (typeof p.iss !== 'string' || !this.issuers.includes(p.iss)) {
      return fail(401, 'wrong_issuer', 'the token issuer is not accepted');
    }
    const oid = p.oid;
    if (typeof oid !== 'string' || oid === '')
      return fail(401, 'malformed_token', 'the token has no object id');
    // Every access token names its client (v1 `appid`, v2 `azp`); an ID token names none, and
    // carries the same aud, tid, oid and roles when a user signs in to the API's own
    // registration. Microsoft identity platform, "ID tokens": not for calling APIs.
    const appId = typeof p.appid === 'string' ? p.appid : typeof p.azp === 'string' ? p.azp : undefined;
    if (appId === undefined) return fail(401, 'malformed_token', 'the token is not an access token');
    const roles = strings(p.roles);
    const required = typeof this.o.requiredRole === 'string' ? [this.o.requiredRole] : this.o.requiredRole;
    if (!required.some((r) => roles.includes(r))) {
      return fail(403, 'missing_role', `the caller lacks the app role ${required.join(' or ')}`);
    }
    return {
      ok: true,
      principal: {
        oid,
        appId,
        tid,
        sub: p.sub,
        roles,
        groups: strings(p.groups),
        tokenVersion: p.iss.startsWith('https://sts.') ? '1.0' : '2.0',
        delegated: typeof p.scp === 'string',
      },
    };
  }
}

const strings = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];

function classify(e: unknown): AuthFailure {
  if (e instanceof errors.JWTExpired) return fail(401, 'expired', 'the token has expired');
  if (e instanceof errors.JWTClaimValidationFailed) {
    if (e.claim === 'nbf') return fail(401, 'not_yet_valid', 'the token is not valid yet');
    if (e.claim === 'aud') return fail(401, 'wrong_audience', 'the token is for another audience');
    if (e.claim === 'iss') return fail(401, 'wrong_issuer', 'the token issuer is not accepted');
    if (e.reason === 'missing') return fail(401, 'malformed_token', `the token has no "${e.claim}" claim`);
    return fail(401, 'malformed_token', `the token's "${e.claim}" claim is invalid`);
  }
  if (e instanceof errors.JWSSignatureVerificationFailed) {
    return fail(401, 'bad_signature', 'the token signature is invalid');
  }
  if (e instanceof errors.JWKSNoMatchingKey || e instanceof errors.JWKSMultipleMatchingKeys) {
    return fail(401, 'unknown_key', 'the token was signed with an unknown key');
  }
  if (e instanceof errors.JOSEAlgNotAllowed)
    return fail(401, 'bad_algorithm', 'the token must be signed with RS256');
  return fail(401, 'malformed_token', 'the bearer token is not a valid JWT');
}

/** Strip what a quoted-string cannot carry (RFC 6750 §3: %x20-21 / %x23-5B / %x5D-7E). */
const quoted = (s: string): string => s.replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, '');

/**
 * The WWW-Authenticate value for a failure (RFC 6750 §3). A request without credentials gets
 * only the realm: "If the request lacks any authentication information ..., the resource
 * server SHOULD NOT include an error code". An invalid token gets `invalid_token` (401); a
 * token without the role gets `insufficient_scope` (§3.1: 403).
 */
export function bearerChallenge(f: AuthFailure, realm = 'azure-scep-ca'): string {
  const base = `Bearer realm="${quoted(realm)}"`;
  if (f.reason === 'missing_token') return base;
  const error = f.status === 403 ? 'insufficient_scope' : 'invalid_token';
  return `${base}, error="${error}", error_description="${quoted(f.message)}"`;
}

/**
 * The failure as the AppError the HTTP layer maps (UNAUTHORIZED 401, FORBIDDEN 403);
 * `detail.wwwAuthenticate` carries the header value to send, `detail.reason` the reason code.
 */
export function authFailureError(f: AuthFailure, realm?: string): AppError {
  return new AppError(f.status === 403 ? 'FORBIDDEN' : 'UNAUTHORIZED', f.message, {
    detail: { reason: f.reason, wwwAuthenticate: bearerChallenge(f, realm) },
  });
}
