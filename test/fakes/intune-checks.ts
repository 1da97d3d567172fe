import 'reflect-metadata';
import { AsnParser } from '@peculiar/asn1-schema';
import { CertificationRequest } from '@peculiar/asn1-csr';
import { ChallengePassword, id_pkcs9_at_challengePassword } from '@peculiar/asn1-pkcs9';

/**
 * Body checks of the fake Intune service, straight from spec intune-scep-api.md §3 and §10.
 * Each returns the list of contract violations (empty when the body is what Intune expects).
 */

export type ScepAction = 'validateRequest' | 'successNotification' | 'failureNotification';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,7})?Z$/;
const HEX40 = /^[0-9A-Fa-f]{40}$/;
const HEX = /^[0-9A-Fa-f]+$/;

export interface CheckedCsr {
  readonly ok: boolean;
  readonly challenge: string | undefined;
}

/** §4: standard base64 (padding, no PEM armour, no line breaks) of a DER PKCS#10. */
export function checkCsr(value: unknown, problems: string[]): CheckedCsr {
  if (typeof value !== 'string' || value === '') {
    problems.push('certificateRequest must be a non-empty string');
    return { ok: false, challenge: undefined };
  }
  if (!BASE64.test(value)) {
    problems.push('certificateRequest is not standard base64 (no line breaks, padded)');
    return { ok: false, challenge: undefined };
  }
  try {
    const req = AsnParser.parse(Buffer.from(value, 'base64'), CertificationRequest);
    const attr = req.certificationRequestInfo.attributes.find(
      (a) => a.type === id_pkcs9_at_challengePassword,
    );
    const raw = attr?.values[0];
    const challenge = raw ? AsnParser.parse(raw, ChallengePassword).toString() : undefined;
    return { ok: true, challenge };
  } catch {
    // Intune answers CertificateRequestDecodingFailed; not a contract violation by the client.
    return { ok: false, challenge: undefined };
  }
}

function requireString(o: Record<string, unknown>, key: string, problems: string[], nonBlank = true): void {
  const v = o[key];
  if (typeof v !== 'string' || (nonBlank && v.trim() === ''))
    problems.push(`${key} must be a non-empty string`);
}

function onlyKeys(o: Record<string, unknown>, allowed: readonly string[], problems: string[]): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) problems.push(`unexpected field "${k}"`);
}

/** The inner object of the body, after checking the single wrapper key (§3). */
export function unwrap(
  action: ScepAction,
  body: unknown,
  problems: string[],
): Record<string, unknown> | undefined {
  const wrapper = action === 'validateRequest' ? 'request' : 'notification';
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    problems.push('body must be a JSON object');
    return undefined;
  }
  const keys = Object.keys(body);
  if (keys.length !== 1 || keys[0] !== wrapper) {
    problems.push(`body must have exactly one property "${wrapper}", got ${JSON.stringify(keys)}`);
    return undefined;
  }
  const inner = (body as Record<string, unknown>)[wrapper];
  if (typeof inner !== 'object' || inner === null || Array.isArray(inner)) {
    problems.push(`"${wrapper}" must be an object`);
    return undefined;
  }
  return inner as Record<string, unknown>;
}

export function checkFields(action: ScepAction, o: Record<string, unknown>, problems: string[]): void {
  requireString(o, 'transactionId', problems);
  requireString(o, 'callerInfo', problems);
  if (action === 'validateRequest') {
    onlyKeys(o, ['transactionId', 'certificateRequest', 'callerInfo'], problems);
    return;
  }
  if (action === 'successNotification') {
    onlyKeys(
      o,
      [
        'transactionId',
        'certificateRequest',
        'certificateThumbprint',
        'certificateSerialNumber',
        'certificateExpirationDateUtc',
        'issuingCertificateAuthority',
        'callerInfo',
        'caConfiguration',
        'certificateAuthority',
      ],
      problems,
    );
    if (typeof o.certificateThumbprint !== 'string' || !HEX40.test(o.certificateThumbprint)) {
      problems.push('certificateThumbprint must be 40 hex characters (SHA-1)');
    }
    if (typeof o.certificateSerialNumber !== 'string' || !HEX.test(o.certificateSerialNumber)) {
      problems.push('certificateSerialNumber must be hex');
    }
    const exp = o.certificateExpirationDateUtc;
    if (typeof exp !== 'string' || !ISO_UTC.test(exp) || Number.isNaN(Date.parse(exp))) {
      problems.push('certificateExpirationDateUtc must be ISO 8601 UTC (…Z)');
    }
    requireString(o, 'issuingCertificateAuthority', problems);
    for (const k of ['caConfiguration', 'certificateAuthority']) {
      if (o[k] !== undefined && o[k] !== null && typeof o[k] !== 'string')
        problems.push(`${k} must be a string or null`);
    }
    return;
  }
  onlyKeys(o, ['transactionId', 'certificateRequest', 'hResult', 'errorDescription', 'callerInfo'], problems);
  // hResult: a JSON number, signed or unsigned 32-bit (Java sends signed, C# 0xFFFF) (§3.3).
  const hr = o.hResult;
  if (typeof hr !== 'number' || !Number.isInteger(hr) || hr < -(2 ** 31) || hr > 2 ** 32 - 1) {
    problems.push('hResult must be a 32-bit integer');
  }
  requireString(o, 'errorDescription', problems);
  if (typeof o.errorDescription === 'string' && o.errorDescription.length > 255) {
    problems.push('errorDescription is longer than 255 characters');
  }
}
