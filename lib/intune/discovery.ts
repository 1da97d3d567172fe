import { randomUUID } from 'node:crypto';
import { exchange, type FetchLike, parseJsonObject, stringField } from './http.js';
import type { TokenProvider } from './tokens.js';
import type { IntuneFailure } from './types.js';

/**
 * Intune service discovery through Microsoft Graph (spec §1a, §1c):
 * `GET {graph}v1.0/servicePrincipals/appId=0000000a-0000-0000-c000-000000000000/endpoints`
 * with a Graph app-only token (Application.Read.All) and a fresh `client-request-id`; nothing
 * else. The answer's `value[*].providerName` → `uri` map is cached; names are matched
 * case-insensitively and, as in the current Java library, the FIRST duplicate wins.
 * The cache is cleared by `invalidate()` (the client calls it after a network error, a timeout
 * or a non-2xx answer from Intune), when the service is missing, and after `maxAgeMs`.
 */

export const INTUNE_APP_ID = '0000000a-0000-0000-c000-000000000000';

export interface DiscoveryOptions {
  /** e.g. `https://graph.microsoft.com/` (trailing slash added when missing). */
  readonly graphBase: string;
  /** `1.0` (the path gets a `v` prefix, as in the reference library). */
  readonly graphVersion: string;
  readonly intuneAppId: string;
  readonly tokens: TokenProvider;
  readonly timeoutMs: number;
  readonly fetch?: FetchLike;
  readonly now?: () => number;
  /** Re-discover at least this often even without errors. Default 24 h. */
  readonly maxAgeMs?: number;
}

export type LookupResult = { readonly ok: true; readonly uri: string } | IntuneFailure;

export class ServiceDiscovery {
  private services: { readonly map: ReadonlyMap<string, string>; readonly at: number } | undefined;
  private inflight: Promise<IntuneFailure | undefined> | undefined;
  private readonly fetchImpl: FetchLike;
  private readonly now: () => number;
  readonly graphBase: string;
  readonly endpointsUrl: string;

  constructor(private readonly opts: DiscoveryOptions) {
    this.fetchImpl = opts.fetch ?? fetch;
    this.now = opts.now ?? Date.now;
    this.graphBase = opts.graphBase.endsWith('/') ? opts.graphBase : `${opts.graphBase}/`;
    const version = opts.graphVersion.replace(/^v/i, '');
    this.endpointsUrl = `${this.graphBase}v${version}/servicePrincipals/appId=${opts.intuneAppId}/endpoints`;
  }

  /** The Graph scope: the Graph resource URL + `.default` (§1a). */
  get scope(): string {
    return `${this.graphBase}.default`;
  }

  /** The base URI of `serviceName` (e.g. `ScepRequestValidationFEService`), no trailing slash. */
  async lookup(serviceName: string, signal?: AbortSignal): Promise<LookupResult> {
    const maxAge = this.opts.maxAgeMs ?? 24 * 3600 * 1000;
    if (this.services && this.now() - this.services.at > maxAge) this.services = undefined;
    if (!this.services) {
      this.inflight ??= this.refresh(signal).finally(() => (this.inflight = undefined));
      const failed = await this.inflight;
      if (failed) return failed;
    }
    const uri = this.services?.map.get(serviceName.toLowerCase());
    if (uri === undefined) {
      // Not cached: a tenant that gains the service (licence, rollout) is picked up next time.
      this.invalidate();
      return {
        ok: false,
        kind: 'service-not-found',
        message: `Did not find service named '${serviceName}' listed in Microsoft Graph discovery`,
      };
    }
    return { ok: true, uri };
  }

  invalidate(): void {
    this.services = undefined;
  }

  private async refresh(signal?: AbortSignal): Promise<IntuneFailure | undefined> {
    const token = await this.opts.tokens.getToken(this.scope, signal);
    if (!token.ok) return token;
    const activityId = randomUUID();
    const res = await exchange(
      this.fetchImpl,
      this.endpointsUrl,
      { method: 'GET', headers: { authorization: `Bearer ${token.token}`, 'client-request-id': activityId } },
      this.opts.timeoutMs,
      signal,
    );
    if (!res.ok) return discoveryFailure(`Graph discovery: ${res.message}`, undefined, activityId);
    if (res.status === 401) this.opts.tokens.invalidate(this.scope);
    if (res.status < 200 || res.status > 299) {
      const err = parseJsonObject(res.body)?.error;
      const code =
        typeof err === 'object' && err !== null
          ? stringField(err as Record<string, unknown>, 'code')
          : undefined;
      return discoveryFailure(
        `Graph discovery answered ${res.status}${code ? ` ${code}` : ''}`,
        res.status,
        activityId,
      );
    }
    const value = parseJsonObject(res.body)?.value;
    if (!Array.isArray(value)) {
      return discoveryFailure('Graph discovery answered without a "value" array', res.status, activityId);
    }
    const map = new Map<string, string>();
    for (const entry of value) {
      if (typeof entry !== 'object' || entry === null) continue;
      const e = entry as Record<string, unknown>;
      // providerName (Graph `endpoint`); serviceName is the legacy AAD Graph key (§1b).
      const name = stringField(e, 'providerName') ?? stringField(e, 'serviceName');
      const uri = stringField(e, 'uri');
      if (name === undefined || uri === undefined || !URL.canParse(uri)) continue;
      const key = name.toLowerCase();
      if (!map.has(key)) map.set(key, uri.replace(/\/+$/, ''));
    }
    this.services = { map, at: this.now() };
    return undefined;
  }
}

function discoveryFailure(
  message: string,
  httpStatus: number | undefined,
  activityId: string,
): IntuneFailure {
  return { ok: false, kind: 'discovery', message, httpStatus, activityId };
}
