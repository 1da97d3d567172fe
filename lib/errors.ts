/**
 * Typed errors with stable codes. The user-safe `message` is kept apart from the internal
 * `cause`; HTTP status codes are assigned in exactly one place (lib/http/errors.ts).
 */
export const ErrorCodes = [
  'BAD_REQUEST', // the request cannot be parsed (garbage, truncated CMS, bad base64)
  'BODY_TOO_LARGE',
  'UNKNOWN_OPERATION',
  'UNKNOWN_ENDPOINT',
  'METHOD_NOT_ALLOWED',
  'UNSUPPORTED_MEDIA_TYPE',
  'UNAUTHORIZED', // missing or invalid credentials
  'FORBIDDEN', // valid credentials without the right
  'NOT_FOUND',
  'CONFLICT',
  'PRECONDITION_FAILED', // an If-Match / etag condition did not hold (someone wrote since)
  'POLICY_REJECTED', // a CSR validator refused the request
  'CHALLENGE_REJECTED',
  'DEPENDENCY_UNAVAILABLE', // Key Vault, Cosmos DB, Intune, queue: failed or timed out
  'OVERLOADED', // a concurrency limit shed the request
  'CONFIG_INVALID',
  'INTERNAL',
] as const;
export type ErrorCode = (typeof ErrorCodes)[number];

export class AppError extends Error {
  override readonly name = 'AppError';
  constructor(
    readonly code: ErrorCode,
    /** Safe to show to the caller. */
    message: string,
    options?: { cause?: unknown; detail?: Record<string, unknown> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.detail = options?.detail;
  }
  /** Extra machine-readable facts for logs (never secrets). */
  readonly detail: Record<string, unknown> | undefined;
}

export const badRequest = (message: string, cause?: unknown): AppError =>
  new AppError('BAD_REQUEST', message, { cause });

export const dependencyUnavailable = (message: string, cause?: unknown): AppError =>
  new AppError('DEPENDENCY_UNAVAILABLE', message, { cause });

export function isAppError(e: unknown): e is AppError {
  return e instanceof AppError;
}

/** A short description of an unknown thrown value, for logs. */
export function describeError(e: unknown): string {
  if (e instanceof AppError) return `${e.code}: ${e.message}${e.cause ? ` (${describeError(e.cause)})` : ''}`;
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return String(e);
}
