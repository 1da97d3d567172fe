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

/**
 * Map any thrown value to a response. AppErrors carry a safe message; anything else is logged
 * with its cause and answered with a generic message: never internals or a stack trace.
 */
export function errorResponse(
  e: unknown,
  logger: Logger,
  context: Record<string, unknown> = {},
): HttpResponseInit {
  const err = e instanceof AppError ? e : new AppError('INTERNAL', 'internal error', { cause: e });
  const status = HTTP_STATUS[err.code];
  // The fixed fields come last: a detail named `status` or `code` cannot overwrite them.
  const fields = { ...context, ...err.detail, code: err.code, status, error: describeError(err) };
  if (status >= 500) logger.error('request failed', fields);
  else logger.warn('request refused', fields);
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
  if (err.code === 'DEPENDENCY_UNAVAILABLE' || err.code === 'OVERLOADED') headers['retry-after'] = '5';
  const www = err.detail?.wwwAuthenticate;
  if (typeof www === 'string') headers['www-authenticate'] = www;
  return { status, headers, jsonBody: { error: err.code, message: publicMessage(err) } };
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
