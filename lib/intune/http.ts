/**
 * One time-boxed HTTP exchange. Every call to the token endpoint, Graph and Intune goes through
 * here so that none can hang an enrollment: the reference libraries have no timeout of their
 * own, but a SCEP client (and the Functions host) will not wait forever.
 */

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export type Exchange =
  | { readonly ok: true; readonly status: number; readonly body: string }
  | { readonly ok: false; readonly kind: 'timeout' | 'network'; readonly message: string };

/** Responses larger than this are not read further (Intune answers are a few hundred bytes). */
const MAX_BODY_CHARS = 1024 * 1024;

export async function exchange(
  fetchImpl: FetchLike,
  url: string,
  init: RequestInit,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<Exchange> {
  const timeout = AbortSignal.timeout(timeoutMs);
  const combined = signal ? AbortSignal.any([timeout, signal]) : timeout;
  try {
    const res = await fetchImpl(url, { ...init, signal: combined });
    const text = await res.text();
    return { ok: true, status: res.status, body: text.length > MAX_BODY_CHARS ? '' : text };
  } catch (e) {
    if (timeout.aborted) return { ok: false, kind: 'timeout', message: `no answer within ${timeoutMs} ms` };
    if (signal?.aborted) return { ok: false, kind: 'timeout', message: 'aborted by the caller' };
    return { ok: false, kind: 'network', message: describeFetchError(e) };
  }
}

/** undici wraps the socket error in `cause`; that is the useful part (ECONNREFUSED, ENOTFOUND…). */
function describeFetchError(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const cause: unknown = e.cause;
  if (cause instanceof Error) {
    const code = (cause as Error & { code?: unknown }).code;
    return `${e.message}: ${typeof code === 'string' ? `${code} ` : ''}${cause.message}`;
  }
  return e.message;
}

/** Parse a JSON object body; undefined when the body is not a JSON object. */
export function parseJsonObject(body: string): Record<string, unknown> | undefined {
  if (body.trim() === '') return undefined;
  try {
    const v: unknown = JSON.parse(body);
    return typeof v === 'object' && v !== null && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

export function stringField(o: Record<string, unknown> | undefined, key: string): string | undefined {
  const v = o?.[key];
  return typeof v === 'string' ? v : undefined;
}
