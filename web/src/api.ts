/** The management API as the console calls it: JSON, bearer token, RFC 9457 problems. */
export interface Problem {
  readonly status: number;
  readonly title?: string;
  readonly detail?: string;
  readonly code?: string;
  readonly errors?: readonly { pointer?: string; detail: string }[];
}

export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    // The API's detail already lists every entry of `errors` (lib/model/problems.ts: invalid).
    super(
      problem.detail ??
        [problem.title ?? `HTTP ${problem.status}`, ...(problem.errors ?? []).map((e) => e.detail)].join(
          '; ',
        ),
    );
  }
}

export interface Page<T> {
  readonly value: T[];
  readonly continuationToken: string | null;
}

export type TokenSource = () => Promise<string>;

export class Api {
  constructor(private readonly token: TokenSource) {}

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const r = await this.raw(method, path, body);
    if (r.status === 204) return undefined as T;
    return (await r.json()) as T;
  }

  get<T>(path: string): Promise<T> {
    return this.call<T>('GET', path);
  }

  async download(path: string, fileName: string): Promise<void> {
    const r = await this.raw('GET', path);
    const url = URL.createObjectURL(await r.blob());
    const a = document.createElement('a');
    a.href = url;
    a.download = fileName;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => {
      URL.revokeObjectURL(url);
    }, 10_000);
  }

  private async headers(): Promise<Record<string, string>> {
    return { authorization: `Bearer ${await this.token()}`, accept: 'application/json' };
  }

  private async raw(method: string, path: string, body?: unknown): Promise<Response> {
    const headers = await this.headers();
    if (body !== undefined) headers['content-type'] = 'application/json';
    const r = await fetch(`/api/manage/${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    if (!r.ok) {
      const p = (await r.json().catch(() => ({}))) as Partial<Problem>;
      throw new ApiError({ ...p, status: r.status });
    }
    return r;
  }
}

export const q = (params: Record<string, string | number | undefined>): string => {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') s.set(k, String(v));
  const out = s.toString();
  return out === '' ? '' : `?${out}`;
};
