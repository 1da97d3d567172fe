import { z } from 'zod';
import type { Authorization } from '../challenge/types.js';
import { CLIENT_AUTH_EKU, ekuSetting, keyUsageSetting, type KeyUsageName } from './core.js';
import { bool, int, list, optionalString, optionalUrl, section } from './parse.js';

/**
 * REST enrollment (`POST /api/csr`), named as SCEPman names its "Enrollment REST API"
 * (AppConfig:DbCSRValidation:*). Callers authenticate with an Entra ID access token carrying the
 * app role `CSR.Request.Db`, or, for renewals, with a client certificate we issued.
 *
 * Shared names: AppConfig__AuthConfig__TenantId, __ApplicationId and __Authority are defined by
 * the Intune section (lib/config/intune.ts; SCEPman uses one app registration for both). This
 * section only reads them, and checks only what the REST API itself needs (a tenant GUID).
 */

/**
 * Certificate types for AppConfig__DbCSRValidation__ReenrollmentAllowedCertificateTypes:
 * SCEPman's names (case-insensitive) mapped to how our certificate records say a certificate
 * was authorized (CertificateRecord.authorization). Intune user and device certificates are
 * both `intune` here, so either name allows both.
 */
export const CERTIFICATE_TYPE_NAMES: Readonly<Record<string, Authorization>> = {
  static: 'static', // static challenge (SCEP)
  intuneuser: 'intune', // Intune dynamic challenge (SCEP)
  intunedevice: 'intune',
  dbcsr: 'api', // this REST API with an Entra ID token
  account: 'account', // endpoint account challenge (SCEP)
  renewal: 'renewal', // a certificate that was itself issued by a renewal
};
const TYPE_NAMES_SHOWN = 'Static, IntuneUser, IntuneDevice, DbCSR, Account, Renewal';

export const DEFAULT_REQUIRED_ROLE = 'CSR.Request.Db';
export const SERVER_AUTH_EKU = '1.3.6.1.5.5.7.3.1';
export const DEFAULT_AUTHORITY_HOST = 'https://login.microsoftonline.com';

export interface RestAuthSettings {
  /** Directory (tenant) id, lower-case GUID; undefined only when the REST API is disabled. */
  readonly tenantId: string | undefined;
  /** Accepted `aud` values: the app ID URI and the client id (v2 tokens carry the client id). */
  readonly audiences: readonly string[];
  /** App role that must appear in the token's `roles` claim. */
  readonly requiredRole: string;
  /** Entra authority, e.g. https://login.microsoftonline.com or https://login.microsoftonline.us. */
  readonly authorityHost: string;
  /** JWKS address; undefined means `<authorityHost>/<tenant>/discovery/v2.0/keys`. */
  readonly jwksUrl: string | undefined;
}

export interface RestSettings {
  readonly enabled: boolean;
  /**
   * AppConfig__DbCSRValidation__ValidityPeriodDays, undefined when unset. It can only shorten
   * the global AppConfig__ValidityPeriodDays: use `restValidityDays`.
   */
  readonly validityPeriodDays: number | undefined;
  /** Key usage and EKUs of certificates issued here (the CSR's own requests are not used). */
  readonly keyUsage: readonly KeyUsageName[];
  readonly ekus: readonly string[];
  readonly allowRenewals: boolean;
  /** A delivered renewal revokes the certificate it renews (CRLReason superseded). */
  readonly revokeSuperseded: boolean;
  /** Record authorizations whose certificates may be renewed over mTLS (mapped from the names). */
  readonly renewableAuthorizations: readonly Authorization[];
  /** Trusted header carrying the TLS client certificate (lower-case), or undefined: renewal off. */
  readonly clientCertificateHeader: string | undefined;
  readonly auth: RestAuthSettings;
}

/** Days a certificate issued over the REST API is valid: the shorter of the two settings. */
export function restValidityDays(rest: RestSettings, globalValidityDays: number): number {
  return Math.min(rest.validityPeriodDays ?? globalValidityDays, globalValidityDays);
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** RFC 9110 §5.1 field-name token. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const typeList = list(['DbCSR', 'Renewal']).superRefine((names, ctx) => {
  for (const n of names) {
    if (!(n.toLowerCase() in CERTIFICATE_TYPE_NAMES)) {
      ctx.addIssue({
        code: 'custom',
        message: `unknown certificate type "${n}" (allowed: ${TYPE_NAMES_SHOWN})`,
      });
    }
  }
});

// API enrollment serves servers and services: TLS server and client authentication by default.
const ekuList = ekuSetting([SERVER_AUTH_EKU, CLIENT_AUTH_EKU]);

/** https anywhere; plain http only to this machine (tests, local JWKS). */
export const secureUrl = optionalUrl.refine((s) => {
  // Not a URL at all: optionalUrl has said so already.
  if (s === undefined || !URL.canParse(s)) return true;
  const u = new URL(s);
  return (
    u.protocol === 'https:' ||
    (u.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname))
  );
}, 'expected an https:// URL (http:// only for 127.0.0.1 or localhost)');

const schema = z.object({
  AppConfig__DbCSRValidation__Enabled: bool(false),
  AppConfig__DbCSRValidation__ValidityPeriodDays: int(undefined, 1, 36500),
  AppConfig__DbCSRValidation__DefaultKeyUsage: keyUsageSetting(['DigitalSignature', 'KeyEncipherment']),
  AppConfig__DbCSRValidation__DefaultEkus: ekuList,
  AppConfig__DbCSRValidation__AllowRenewals: bool(false),
  AppConfig__DbCSRValidation__RevokeSupersededOnRenewal: bool(false),
  AppConfig__DbCSRValidation__ReenrollmentAllowedCertificateTypes: typeList,
  AppConfig__DbCSRValidation__ClientCertificateHeader: optionalString.refine(
    (s) => s === undefined || HEADER_NAME.test(s),
    'expected an HTTP header name such as X-ARR-ClientCert',
  ),
  AppConfig__DbCSRValidation__RequiredRole: optionalString,
  AppConfig__DbCSRValidation__JwksUrl: secureUrl,
  AppConfig__AuthConfig__ApplicationIdUri: optionalString,
  // Read-only here; defined and validated by the Intune section.
  AppConfig__AuthConfig__TenantId: optionalString,
  AppConfig__AuthConfig__ApplicationId: optionalString,
  AppConfig__AuthConfig__Authority: optionalString,
});

/** Accepted `aud` values for the app registration AppConfig__AuthConfig__* names. */
export function apiAudiences(r: {
  readonly AppConfig__AuthConfig__ApplicationIdUri: string | undefined;
  readonly AppConfig__AuthConfig__ApplicationId: string | undefined;
}): string[] {
  const out: string[] = [];
  const uri = r.AppConfig__AuthConfig__ApplicationIdUri;
  const id = r.AppConfig__AuthConfig__ApplicationId;
  if (uri !== undefined) out.push(uri);
  if (id !== undefined) {
    out.push(id);
    // The default app ID URI Entra proposes when "Expose an API" is first used.
    if (uri === undefined) out.push(`api://${id}`);
  }
  return out;
}

export const restSection = section(
  schema,
  (r): RestSettings => ({
    enabled: r.AppConfig__DbCSRValidation__Enabled,
    validityPeriodDays: r.AppConfig__DbCSRValidation__ValidityPeriodDays,
    keyUsage: r.AppConfig__DbCSRValidation__DefaultKeyUsage,
    ekus: r.AppConfig__DbCSRValidation__DefaultEkus,
    allowRenewals: r.AppConfig__DbCSRValidation__AllowRenewals,
    revokeSuperseded: r.AppConfig__DbCSRValidation__RevokeSupersededOnRenewal,
    renewableAuthorizations: [
      ...new Set(
        r.AppConfig__DbCSRValidation__ReenrollmentAllowedCertificateTypes.flatMap((n) => {
          const a = CERTIFICATE_TYPE_NAMES[n.toLowerCase()];
          return a === undefined ? [] : [a];
        }),
      ),
    ],
    clientCertificateHeader: r.AppConfig__DbCSRValidation__ClientCertificateHeader?.toLowerCase(),
    auth: {
      tenantId: r.AppConfig__AuthConfig__TenantId?.toLowerCase(),
      audiences: apiAudiences(r),
      requiredRole: r.AppConfig__DbCSRValidation__RequiredRole ?? DEFAULT_REQUIRED_ROLE,
      authorityHost: (r.AppConfig__AuthConfig__Authority ?? DEFAULT_AUTHORITY_HOST).replace(/\/+$/, ''),
      jwksUrl: r.AppConfig__DbCSRValidation__JwksUrl,
    },
  }),
  (r) => {
    if (!r.AppConfig__DbCSRValidation__Enabled) return [];
    const p: string[] = [];
    const tenant = r.AppConfig__AuthConfig__TenantId;
    if (tenant === undefined) {
      p.push('AppConfig__AuthConfig__TenantId: required when AppConfig__DbCSRValidation__Enabled is true');
    } else if (!GUID.test(tenant)) {
      p.push(
        `AppConfig__AuthConfig__TenantId: the REST API needs the directory (tenant) id as a GUID, got "${tenant}"`,
      );
    }
    if (apiAudiences(r).length === 0) {
      p.push(
        'AppConfig__AuthConfig__ApplicationIdUri or AppConfig__AuthConfig__ApplicationId: one is required when AppConfig__DbCSRValidation__Enabled is true (the audience of accepted tokens)',
      );
    }
    if (
      r.AppConfig__DbCSRValidation__AllowRenewals &&
      r.AppConfig__DbCSRValidation__ClientCertificateHeader === undefined
    ) {
      p.push(
        'AppConfig__DbCSRValidation__ClientCertificateHeader: required when AppConfig__DbCSRValidation__AllowRenewals is true (on App Service: X-ARR-ClientCert)',
      );
    }
    return p;
  },
);
