import type { HttpResponseInit } from '@azure/functions';
import { AppError, describeError, type ErrorCode } from '../errors.js';
import type { Logger } from '../log.js';

/** The one place where error codes become HTTP status codes. */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  BAD_REQUEST: 400,
  BODY_TOO_LARGE: 413,
  UNKNOWN_OPERATION: 400,
  UNKNOWN_ENDPOINT: 404,
  METHOD_NOT_ALLOWED: 405,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PRECONDITION_FAILED: 412,
  POLICY_REJECTED: 400,
  CHALLENGE_REJECTED: 403,
  DEPENDENCY_UNAVAILABLE: 503,
  OVERLOADED: 503,
  CONFIG_INVALID: 503,
  INTERNAL: 500,
};

interface Mapped {
  readonly err: AppError;
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly message: string;
}

/** Classify, log once, and pick the headers and the caller-safe message. */
function mapError(e: unknown, logger: Logger, context: Record<string, unknown>, contentType: string): Mapped {
  const err = e instanceof AppError ? e : new AppError('INTERNAL', 'internal error', { cause: e });
  const status = HTTP_STATUS[err.code];
  // The fixed fields come last: a detail named `status` or `code` cannot overwrite them.
  const fields = { ...context, ...err.detail, code: err.code, status, error: describeError(err) };
  if (status >= 500) logger.error('request failed', fields);
  else logger.warn('request refused', fields);
  const headers: Record<string, string> = { 'content-type': contentType };
  if (err.code === 'DEPENDENCY_UNAVAILABLE' || err.code === 'OVERLOADED') headers['retry-after'] = '5';
  const www = err.detail?.wwwAuthenticate;
  if (typeof www === 'string') headers['www-authenticate'] = www;
  const allow = err.detail?.allow;
  if (typeof allow === 'string') headers.allow = allow;
  return { err, status, headers, message: publicMessage(err) };
}

/**
 * Map any thrown value to a response. AppErrors carry a safe message; anything else is logged
 * with its cause and answered with a generic message: never internals or a stack trace.
 */
export function errorResponse(
  e: unknown,
  logger: Logger,
  context: Record<string, unknown> = {},
): HttpResponseInit {
  const m = mapError(e, logger, context, 'application/json; charset=utf-8');
  return { status: m.status, headers: m.headers, jsonBody: { error: m.err.code, message: m.message } };
}

/** The same mapping with a one-line plain-text body (EST errors, RFC 7030 §4.2.3). */
export function textErrorResponse(
  e: unknown,
  logger: Logger,
  context: Record<string, unknown> = {},
): HttpResponseInit {
  const m = mapError(e, logger, context, 'text/plain; charset=utf-8');
  return { status: m.status, headers: m.headers, body: `${m.err.code}: ${m.message}\n` };
}

/**
 * What the caller is told. Failures of the service itself (settings, Key Vault, Cosmos DB, the
 * queue) are for the operator's log: their texts name vaults, keys and accounts.
 */
function publicMessage(err: AppError): string {
  switch (err.code) {
    case 'CONFIG_INVALID':
      return 'the service is not configured correctly; see the log';
    case 'DEPENDENCY_UNAVAILABLE':
      return 'a service the CA depends on is unavailable; retry later';
    case 'INTERNAL':
      return 'internal error';
    default:
      return err.message;
  }
}

/**
 * The same mapping as an RFC 9457 problem details object (`application/problem+json`), for the
 * management API. `type` is about:blank, so `title` is the status phrase (RFC 9457 §4.2.1); the
 * stable machine-readable code is the `code` extension member, and a validation failure lists
 * every problem in `errors` (the shape of RFC 9457 §3's example: `detail` and `pointer`). A 403
 * says why in the `reason` member: `permission` (the role does not allow it),
 * `owner_out_of_scope` (it is owned outside what the caller administers), `scope` (a CA-wide
 * change by a scoped administrator), `missing_role` (a token without a management role).
 */
export function problemResponse(
  e: unknown,
  logger: Logger,
  context: Record<string, unknown> = {},
): HttpResponseInit {
  const m = mapError(e, logger, context, 'application/problem+json; charset=utf-8');
  const problems = m.err.detail?.problems;
  const reason = m.err.detail?.reason;
  return {
    status: m.status,
    headers: m.headers,
    jsonBody: {
      type: 'about:blank',
      title: STATUS_TITLE[m.status] ?? 'Error',
      status: m.status,
      detail: m.message,
      code: m.err.code,
      ...(m.err.code === 'FORBIDDEN' && typeof reason === 'string' ? { reason } : {}),
      ...(Array.isArray(problems) ? { errors: problems.map(problemEntry) } : {}),
    },
  };
}

/**
 * One entry of `errors`: a problem `path.to.field: message` (lib/model/problems.ts) becomes
 * `{ pointer: "/path/to/field", detail: "message" }` (pointer: RFC 6901).
 */
function problemEntry(p: unknown): { pointer?: string; detail: string } {
  const text = typeof p === 'string' ? p : JSON.stringify(p);
  const m = /^([A-Za-z0-9_.-]+): (.+)$/s.exec(text);
  if (!m?.[1] || m[2] === undefined) return { detail: text };
  const pointer = m[1]
    .split('.')
    .map((s) => `/${s.replace(/~/g, '~0').replace(/\//g, '~1')}`)
    .join('');
  return { pointer, detail: m[2] };
}

const STATUS_TITLE: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};
