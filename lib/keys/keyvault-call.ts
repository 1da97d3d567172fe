import { setTimeout as delay } from 'node:timers/promises';
import { remainingBudget } from '../budget.js';
import { AppError } from '../errors.js';
import { jsonLogger, type Logger } from '../log.js';

/**
 * Every Key Vault request goes through `callKeyVault`: bounded attempts, the server's
 * Retry-After honoured on 429 (Key Vault throttles per vault per 10 s: "Azure Key Vault service
 * limits"), a time box per attempt and for the whole call, one log line per failed attempt that
 * names vault, key and operation (never key material), and an operation counter.
 *
 * The SDK clients are built with `retryOptions.maxRetries = 0`: their own retry policy waits
 * for any Retry-After the server names, without a bound, which would hold a SCEP client's
 * request open for as long as the vault says.
 */
export interface CallPolicy {
  /** Attempts in total, including the first. */
  readonly maxAttempts: number;
  /** Time box of one attempt (HTTP request + token acquisition), ms. */
  readonly attemptTimeoutMs: number;
  /** Time box of the whole call including waits between attempts, ms. */
  readonly totalTimeoutMs: number;
  /** Wait before retrying a 5xx, a network error or a timed-out attempt, ms (doubles each time). */
  readonly backoffMs: number;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly log: Logger;
  readonly counter: KeyVaultCounter;
}

export const DEFAULT_CALL_POLICY: Omit<CallPolicy, 'counter'> = {
  maxAttempts: 3,
  attemptTimeoutMs: 10_000,
  totalTimeoutMs: 25_000,
  backoffMs: 200,
  now: () => Date.now(),
  sleep: (ms) => delay(ms),
  log: jsonLogger(),
};

/** Key Vault requests made, by operation name (`sign`, `decrypt`, `getKey`, …), plus `throttled`. */
export class KeyVaultCounter {
  private readonly counts = new Map<string, number>();
  add(name: string): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + 1);
  }
  get(name: string): number {
    return this.counts.get(name) ?? 0;
  }
  snapshot(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }
  reset(): void {
    this.counts.clear();
  }
}

/** A failed Key Vault call. `status` is the last HTTP status (undefined: network error or timeout). */
export class KeyVaultError extends AppError {
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly vaultCode: string | undefined,
    cause: unknown,
    detail: Record<string, unknown>,
  ) {
    super('DEPENDENCY_UNAVAILABLE', message, { cause, detail });
  }
}

export interface CallTarget {
  readonly vault: string;
  /** Key or certificate name (and version) — an identifier, never material. */
  readonly object: string;
  readonly operation: string;
  /** Statuses the caller handles itself (e.g. 400 from decrypt): logged as info, not error. */
  readonly expectedStatuses?: readonly number[];
}

interface Failure {
  /** http: the vault answered; network: it did not; timeout: the time box ran out; client: the SDK refused locally. */
  readonly kind: 'http' | 'network' | 'timeout' | 'client';
  readonly status: number | undefined;
  readonly code: string | undefined;
  readonly retryAfterMs: number | undefined;
  readonly retriable: boolean;
  readonly message: string;
}

export async function callKeyVault<T>(
  target: CallTarget,
  policy: CallPolicy,
  fn: (abortSignal: AbortSignal) => Promise<T>,
): Promise<T> {
  // The call's own time box, cut to what is left of the request's budget.
  const budget = remainingBudget(policy.now());
  const deadline = policy.now() + Math.min(policy.totalTimeoutMs, budget ?? Infinity);
  const fields = { vault: target.vault, object: target.object, operation: target.operation };
  if (budget !== undefined && budget <= 0) {
    policy.log.error('Key Vault call not made: the request budget is spent', fields);
    throw new KeyVaultError(
      `Key Vault ${target.operation} on ${target.object} at ${target.vault} not called: the request time budget is spent`,
      undefined,
      undefined,
      undefined,
      { ...fields, kind: 'budget' },
    );
  }
  for (let attempt = 1; ; attempt++) {
    const remaining = deadline - policy.now();
    const signal = AbortSignal.timeout(Math.max(1, Math.min(policy.attemptTimeoutMs, remaining)));
    policy.counter.add(target.operation);
    let failure: Failure;
    try {
      return await abortable(fn(signal), signal);
    } catch (e) {
      failure = classify(e, signal.aborted, policy.now());
      if (failure.status === 429) policy.counter.add('throttled');
      const wait = failure.retryAfterMs ?? policy.backoffMs * 2 ** (attempt - 1);
      const left = deadline - policy.now();
      const retry = failure.retriable && attempt < policy.maxAttempts && wait < left;
      const logFields = {
        ...fields,
        attempt,
        kind: failure.kind,
        status: failure.status,
        code: failure.code,
      };
      if (retry) {
        policy.log.warn('Key Vault call failed; retrying', { ...logFields, waitMs: wait });
        await policy.sleep(wait);
        continue;
      }
      const expected =
        failure.status !== undefined && target.expectedStatuses?.includes(failure.status) === true;
      if (expected) policy.log.info('Key Vault call failed', logFields);
      else policy.log.error('Key Vault call failed', logFields);
      throw new KeyVaultError(describe(target, failure, attempt), failure.status, failure.code, e, logFields);
    }
  }
}

/**
 * `p`, or an AbortError once `signal` aborts. The SDK passes the signal to the HTTP request but
 * not to every step before it: @azure/identity's ManagedIdentityCredential does not abort a token
 * request, so an identity endpoint that never answers would outlast every time box here.
 */
function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const aborted = (): void => {
      reject(new DOMException('the time box ran out', 'AbortError'));
    };
    if (signal.aborted) aborted();
    signal.addEventListener('abort', aborted, { once: true });
    p.then(resolve, reject).finally(() => {
      signal.removeEventListener('abort', aborted);
    });
  });
}

function describe(t: CallTarget, f: Failure, attempts: number): string {
  const what = {
    http: `answered ${f.status ?? ''}${f.code === undefined ? '' : ` ${f.code}`}`,
    network: 'could not be reached',
    timeout: 'did not answer in time',
    client: `was refused by the client (${f.message})`,
  }[f.kind];
  return `Key Vault ${t.operation} on ${t.object} at ${t.vault} ${what} (${attempts} attempt${attempts === 1 ? '' : 's'})`;
}

interface RestErrorLike {
  readonly statusCode?: number;
  readonly code?: string;
  readonly response?: { readonly headers?: { get(name: string): string | undefined } };
}

function isRestErrorLike(e: unknown): e is Error & RestErrorLike {
  return e instanceof Error && e.name === 'RestError';
}

/**
 * Retriable: 408, 429, 5xx, network errors and timed-out attempts — the vault's load or the
 * network, not the request. Everything else (400 bad input, 401/403 identity and RBAC, 404 no
 * such key, a refusal by the SDK itself) is answered at once: retrying cannot change it.
 */
function classify(e: unknown, timedOut: boolean, now: number): Failure {
  const message = e instanceof Error ? e.message : String(e);
  const base = { code: undefined, retryAfterMs: undefined, message };
  if (isRestErrorLike(e) && e.statusCode !== undefined) {
    const status = e.statusCode;
    return {
      kind: 'http',
      status,
      code: e.code,
      retryAfterMs: status === 429 || status === 503 ? retryAfterMs(e, now) : undefined,
      retriable: status === 408 || status === 429 || status >= 500,
      message,
    };
  }
  if (timedOut || (e instanceof Error && e.name === 'AbortError')) {
    return { ...base, kind: 'timeout', status: undefined, retriable: true };
  }
  // A RestError without a status: the request was not answered (ECONNREFUSED, reset, DNS).
  if (isRestErrorLike(e))
    return { ...base, kind: 'network', status: undefined, code: e.code, retriable: true };
  return { ...base, kind: 'client', status: undefined, retriable: false };
}

/** Retry-After (RFC 9110 §10.2.3): delay-seconds or an HTTP-date; also Azure's retry-after-ms. */
function retryAfterMs(e: RestErrorLike, now: number): number | undefined {
  const h = e.response?.headers;
  const ms = h?.get('retry-after-ms') ?? h?.get('x-ms-retry-after-ms');
  if (ms !== undefined && /^\d+$/.test(ms.trim())) return Number(ms.trim());
  const v = h?.get('retry-after')?.trim();
  if (v === undefined || v === '') return undefined;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}
