import { isAppError } from '../errors.js';

/**
 * HRESULTs for failureNotification (spec §7): "Win32 error code/HRESULT per MS-ERREF", shown to
 * the admin in the Intune console. The values are the standard winerror.h ones; which situation
 * gets which code is this project's mapping.
 */
export const HRESULT = {
  /** Unspecified CA/issuance failure. */
  E_FAIL: 0x80004005,
  /** Unexpected internal error. */
  E_UNEXPECTED: 0x8000ffff,
  /** Malformed or invalid request data. */
  E_INVALIDARG: 0x80070057,
  /** Access denied at the CA. */
  E_ACCESSDENIED: 0x80070005,
  /** CA refused the request by policy. */
  CERTSRV_E_TEMPLATE_DENIED: 0x80094012,
  /** CA (Key Vault, database) unreachable or timed out: HRESULT_FROM_WIN32(ERROR_TIMEOUT). */
  ERROR_TIMEOUT: 0x800705b4,
} as const;

/** The HRESULT that describes why issuance failed after a successful validateRequest. */
export function hresultFor(error: unknown): number {
  if (!isAppError(error)) return HRESULT.E_UNEXPECTED;
  switch (error.code) {
    case 'POLICY_REJECTED':
    case 'CONFLICT':
      return HRESULT.CERTSRV_E_TEMPLATE_DENIED;
    case 'BAD_REQUEST':
      return HRESULT.E_INVALIDARG;
    case 'UNAUTHORIZED':
    case 'FORBIDDEN':
      return HRESULT.E_ACCESSDENIED;
    case 'DEPENDENCY_UNAVAILABLE':
      return HRESULT.ERROR_TIMEOUT;
    case 'INTERNAL':
      return HRESULT.E_UNEXPECTED;
    default:
      return HRESULT.E_FAIL;
  }
}
