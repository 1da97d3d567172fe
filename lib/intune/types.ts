import type { IntuneReason } from '../audit/reasons.js';

/**
 * Results of the Intune SCEP calls (Microsoft's Intune-Resource-Access SCEP validation library). The client never
 * throws for a failed call: every outcome is a value the caller can log and decide on, so no
 * Intune failure can slip through as an unexpected exception that issues a certificate anyway.
 */

/** The `code` values of the reference library's enum (§3.5), for logs and the fake service. */
export const IntuneResultCodes = [
  'Success',
  'CertificateRequestDecodingFailed',
  'ChallengePasswordMissing',
  'ChallengeDeserializationError',
  'ChallengeDecryptionError',
  'ChallengeDecodingError',
  'ChallengeInvalidTimestamp',
  'ChallengeExpired',
  'SubjectNameMissing',
  'SubjectNameMismatch',
  'SubjectAltNameMissing',
  'SubjectAltNameMismatch',
  'KeyUsageMismatch',
  'KeyLengthMismatch',
  'EnhancedKeyUsageMissing',
  'EnhancedKeyUsageMismatch',
  'AadKeyIdentifierListMissing',
  'RegisteredKeyMismatch',
  'SigningCertThumbprintMismatch',
  'ScepProfileNoLongerTargetedToTheClient',
  'SignatureValidationFailed',
  'BadCertificateRequestIdInChallenge',
  'BadDeviceIdInChallenge',
  'BadUserIdInChallenge',
] as const;
export type IntuneResultCode = (typeof IntuneResultCodes)[number];

/**
 * Why a call did not succeed:
 * - `code`: HTTP 2xx with a `code` other than "Success" (Intune's business answer; §3.4)
 * - `http`: non-2xx from Intune (JSON `code`/`errorDescription` kept when the body had them)
 * - `bad-response`: 2xx whose body is not `{code: string, …}` JSON
 * - `timeout` / `network`: no answer in time, or the connection failed (discovery cache cleared)
 * - `token`: the token endpoint refused or failed (client credentials, §2)
 * - `discovery`: Graph discovery failed; `service-not-found`: the service is not listed (§1c)
 * - `invalid-argument`: transactionId or certificateRequest empty (checked before sending, §3.1)
 */
export type IntuneFailureKind =
  | 'code'
  | 'http'
  | 'bad-response'
  | 'timeout'
  | 'network'
  | 'token'
  | 'discovery'
  | 'service-not-found'
  | 'invalid-argument';

export interface IntuneSuccess {
  readonly ok: true;
  readonly code: 'Success';
  readonly errorDescription: string;
  /** The client-request-id sent with the call (Intune support asks for it). */
  readonly activityId: string;
}

export interface IntuneFailure {
  readonly ok: false;
  readonly kind: IntuneFailureKind;
  /** Intune's `code` when the service answered one (always set for kind `code`). */
  readonly code?: string | undefined;
  readonly errorDescription?: string | undefined;
  /** HTTP status of the failing call (Intune, token endpoint or Graph), when there was one. */
  readonly httpStatus?: number | undefined;
  /** Short technical detail for logs (never a secret or a token). */
  readonly message: string;
  readonly activityId?: string | undefined;
}

export type IntuneResult = IntuneSuccess | IntuneFailure;

/**
 * A stable machine-readable reason for logs and audit: `intune:<Code>` for Intune's answers,
 * `intune:http-<status>`, `intune:timeout`, `intune:network`, `intune:token`, … otherwise.
 */
export function intuneReason(r: IntuneFailure): string {
  if (r.kind === 'code') return `intune:${r.code ?? 'Unknown'}`;
  if (r.kind === 'http') return `intune:http-${r.httpStatus ?? 0}`;
  return `intune:${r.kind}`;
}

/** The catalogue code of a failure: as intuneReason, with a code Intune's enum lacks as `intune:Unknown`. */
export function intuneReasonCode(r: IntuneFailure): IntuneReason {
  if (r.kind === 'code') {
    const code = IntuneResultCodes.find(
      (c): c is Exclude<IntuneResultCode, 'Success'> => c === r.code && c !== 'Success',
    );
    return code === undefined ? 'intune:Unknown' : `intune:${code}`;
  }
  if (r.kind === 'http') return `intune:http-${r.httpStatus ?? 0}`;
  return `intune:${r.kind}`;
}

/** Compatible with `console` and with an @azure/functions InvocationContext. */
export interface Logger {
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}

export const silentLogger: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
