import { exchange, type FetchLike, parseJsonObject, stringField } from './http.js';
import type { IntuneFailure } from './types.js';

/**
 * App-only tokens from Microsoft Entra ID with the OAuth 2.0 client credentials grant
 * (spec §2): `POST {authority}{tenant}/oauth2/v2.0/token`, form-encoded
 * `grant_type=client_credentials&client_id=..&client_secret=..&scope=..`, answered with
 * `{token_type, expires_in, access_token}`. One cached token per scope, reused until shortly
 * before `expires_in` runs out; concurrent callers share one request.
 */

/**
 * How the app proves itself to Entra ID. `onRejected` is called when Entra ID answers
 * `invalid_client` (RFC 6749 5.2; AADSTS7000215 a wrong secret, AADSTS700027 a wrong assertion):
 * the credential was rotated, so a cached copy of it must be read again.
 */
export type ClientCredential =
  /**
   * Application secret: the value (AppConfig__AuthConfig__ApplicationKey), or how to read it
   * (a stored Intune connection's Key Vault secret), called once per token request.
   */
  | {
      readonly kind: 'secret';
      readonly secret: string | (() => Promise<string>);
      readonly onRejected?: () => void;
    }
  /**
   * A signed client assertion (RFC 7523): a JWT made with the app's certificate, or a managed
   * identity token used as a federated credential. Called once per token request.
   */
  | {
      readonly kind: 'assertion';
      readonly getAssertion: (tokenEndpoint: string) => Promise<string>;
      readonly onRejected?: () => void;
    };

export interface TokenProviderOptions {
  /** e.g. `https://login.microsoftonline.com/` (a trailing slash is added when missing). */
  readonly authority: string;
  readonly tenantId: string;
  readonly clientId: string;
  readonly credential: ClientCredential;
  readonly timeoutMs: number;
  readonly fetch?: FetchLike;
  /** Milliseconds since the epoch; injectable for tests. */
  readonly now?: () => number;
}

export type TokenResult = { readonly ok: true; readonly token: string } | IntuneFailure;

interface Cached {
  readonly token: string;
  readonly refreshAt: number;
}

export class TokenProvider {
  private readonly cache = new Map<string, Cached>();
  private readonly inflight = new Map<string, Promise<TokenResult>>();
  private readonly fetchImpl: FetchLike;
  private readonly now: () => number;
  readonly tokenEndpoint: string;

  constructor(private readonly opts: TokenProviderOptions) {
    this.fetchImpl = opts.fetch ?? fetch;
    this.now = opts.now ?? Date.now;
    const authority = opts.authority.endsWith('/') ? opts.authority : `${opts.authority}/`;
    this.tokenEndpoint = `${authority}${encodeURIComponent(opts.tenantId)}/oauth2/v2.0/token`;
  }

  /** A token for `scope` (e.g. `https://graph.microsoft.com/.default`), from cache when fresh. */
  getToken(scope: string, signal?: AbortSignal): Promise<TokenResult> {
    const hit = this.cache.get(scope);
    if (hit && this.now() < hit.refreshAt) return Promise.resolve({ ok: true, token: hit.token });
    const running = this.inflight.get(scope);
    if (running) return running;
    const p = this.request(scope, signal).finally(() => this.inflight.delete(scope));
    this.inflight.set(scope, p);
    return p;
  }

  /** Forget the token for `scope` (e.g. after a 401: the app's roles may have changed). */
  invalidate(scope: string): void {
    this.cache.delete(scope);
  }

  private async request(scope: string, signal?: AbortSignal): Promise<TokenResult> {
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: this.opts.clientId,
      scope,
    });
    const cred = this.opts.credential;
    if (cred.kind === 'secret') {
      try {
        const secret = typeof cred.secret === 'string' ? cred.secret : await this.timeBoxed(cred.secret());
        form.set('client_secret', secret);
      } catch (e) {
        return fail(`could not read the client secret: ${e instanceof Error ? e.message : String(e)}`);
      }
    } else {
      let assertion: string;
      try {
        assertion = await this.timeBoxed(cred.getAssertion(this.tokenEndpoint));
      } catch (e) {
        return fail(`could not build the client assertion: ${e instanceof Error ? e.message : String(e)}`);
      }
      form.set('client_assertion_type', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
      form.set('client_assertion', assertion);
    }
    const started = this.now();
    const res = await exchange(
      this.fetchImpl,
      this.tokenEndpoint,
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form.toString(),
      },
      this.opts.timeoutMs,
      signal,
    );
    if (!res.ok) return fail(`token endpoint: ${res.message}`);
    const json = parseJsonObject(res.body);
    if (res.status < 200 || res.status > 299) {
      // Entra ID errors: {error, error_description, error_codes: [7000215, …]}.
      const error = stringField(json, 'error') ?? 'no error code';
      if (error === 'invalid_client') cred.onRejected?.();
      const codes = json?.error_codes;
      const aadsts = Array.isArray(codes) && typeof codes[0] === 'number' ? ` (AADSTS${codes[0]})` : '';
      const description =
        (stringField(json, 'error_description') ?? '').split(/\r?\n/)[0]?.slice(0, 200) ?? '';
      return fail(`token endpoint answered ${res.status} ${error}${aadsts}: ${description}`, res.status);
    }
    const token = stringField(json, 'access_token');
    if (token === undefined || token === '')
      return fail('token endpoint answered without an access_token', res.status);
    const expiresIn = Number(json?.expires_in ?? 300);
    const lifetime = Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : 300;
    // Refresh early (5 minutes, or half the lifetime for short-lived tokens) so a token never
    // expires between the cache check and Intune's check.
    const margin = Math.min(300, lifetime / 2);
    this.cache.set(scope, { token, refreshAt: started + (lifetime - margin) * 1000 });
    return { ok: true, token };
  }

  /**
   * The credential step within the same time box as the HTTP exchanges: a managed identity
   * endpoint that never answers (@azure/identity sets no timeout of its own) would otherwise
   * hold this request, and every caller sharing it, for good.
   */
  private async timeBoxed<T>(step: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new Error(`no answer within ${this.opts.timeoutMs} ms`));
      }, this.opts.timeoutMs);
    });
    try {
      return await Promise.race([step, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

function fail(message: string, httpStatus?: number): IntuneFailure {
  return { ok: false, kind: 'token', message, httpStatus };
}
