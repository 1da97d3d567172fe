import type { IncomingMessage } from 'node:http';

/**
 * The PkiConnectorFEService revocation calls of the fake Intune (spec intune-scep-api.md §8):
 * `downloadRevocationRequests` hands out pending requests (up to maxRequests) and keeps them
 * pending until `uploadRevocationResults` reports them, like the service: a pull whose upload
 * failed gets the same requests again. Keys are matched case-insensitively (the C# connector's
 * first upload may be PascalCase); errorCode may be an enum name or its number.
 */
export interface FakeRevocationRequest {
  readonly requestContext: string;
  readonly serialNumber: string;
  readonly issuerName: string | null;
  readonly caConfiguration: string | null;
}

export interface FakeRevocation {
  /** Requests not yet reported. Tests push to it. */
  readonly pending: FakeRevocationRequest[];
  /** Every uploaded result, in order. */
  readonly results: {
    requestContext: string;
    succeeded: boolean;
    errorCode: string;
    errorMessage: unknown;
  }[];
  /** While set, that call answers HTTP 500 (a transient Intune failure). */
  fault: 'download' | 'upload' | undefined;
  readonly downloads: number[];
}

export function fakeRevocation(): FakeRevocation {
  return { pending: [], results: [], fault: undefined, downloads: [] };
}

const ERROR_CODES: Record<string, string> = {
  '0': 'None',
  '4002': 'ParameterDataInvalidError',
  '4004': 'CertificateNotFoundError',
};

/** Handles `…/CertificateAuthorityRequests/{action}`; `problems` collects contract violations. */
export function handleRevocationCall(
  r: FakeRevocation,
  action: string,
  req: IncomingMessage,
  raw: string,
  problems: string[],
  send: (status: number, body: unknown) => void,
): void {
  if (req.method !== 'POST') problems.push(`${action}: method ${req.method ?? '?'}`);
  if (req.headers['api-version'] !== '5019-05-05') problems.push(`${action}: api-version must be 5019-05-05`);
  let body: Record<string, unknown> = {};
  try {
    body = lowerKeys(JSON.parse(raw)) as Record<string, unknown>;
  } catch {
    problems.push(`${action}: body is not JSON`);
  }
  if (action === 'downloadRevocationRequests') {
    if (r.fault === 'download') {
      send(500, { error: 'scripted' });
      return;
    }
    const p = body.downloadparameters as Record<string, unknown> | undefined;
    const max = p?.maxrequests;
    if (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > 500) {
      problems.push('downloadRevocationRequests: maxRequests must be an integer 1..500');
      send(400, { error: 'ParameterDataInvalidError' });
      return;
    }
    r.downloads.push(max);
    send(200, { value: r.pending.slice(0, max) });
    return;
  }
  if (action === 'uploadRevocationResults') {
    if (r.fault === 'upload') {
      send(500, { error: 'scripted' });
      return;
    }
    const results = body.results;
    if (!Array.isArray(results)) {
      problems.push('uploadRevocationResults: results must be an array');
      send(400, { error: 'ParameterDataInvalidError' });
      return;
    }
    for (const x of results as Record<string, unknown>[]) {
      const ctx = x.requestcontext;
      const i = r.pending.findIndex((p) => p.requestContext === ctx);
      if (typeof ctx !== 'string' || i < 0)
        problems.push(`uploadRevocationResults: unknown requestContext ${String(ctx)}`);
      if (typeof x.succeeded !== 'boolean')
        problems.push('uploadRevocationResults: succeeded must be a boolean');
      const code = String(x.errorcode);
      if (i >= 0) r.pending.splice(i, 1);
      r.results.push({
        requestContext: String(ctx),
        succeeded: x.succeeded === true,
        errorCode: ERROR_CODES[code] ?? code,
        errorMessage: x.errormessage,
      });
    }
    send(200, { value: true });
    return;
  }
  send(404, { error: { code: 'NotFound' } });
}

function lowerKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(lowerKeys);
  if (typeof v !== 'object' || v === null) return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k.toLowerCase(), lowerKeys(x)]));
}
