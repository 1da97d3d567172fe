import { z } from 'zod';
import { bool, int, list, optionalString, optionalUrl, section } from './parse.js';
import { isUnresolvedReference, unresolvedMessage } from './secrets.js';

/** RFC 5280 KeyUsage names as SCEPman writes them in AppConfig__StaticValidation__DefaultKeyUsage. */
export const KeyUsageNames = [
  'DigitalSignature',
  'NonRepudiation',
  'KeyEncipherment',
  'DataEncipherment',
  'KeyAgreement',
] as const;
export type KeyUsageName = (typeof KeyUsageNames)[number];

export type ResponseCipher = 'auto' | 'AES-128-CBC' | 'AES-192-CBC' | 'AES-256-CBC' | 'DES-EDE3-CBC';
const responseCiphers: Record<string, ResponseCipher> = {
  auto: 'auto',
  'aes-128-cbc': 'AES-128-CBC',
  aes128: 'AES-128-CBC',
  '2.16.840.1.101.3.4.1.2': 'AES-128-CBC',
  'aes-192-cbc': 'AES-192-CBC',
  aes192: 'AES-192-CBC',
  '2.16.840.1.101.3.4.1.22': 'AES-192-CBC',
  'aes-256-cbc': 'AES-256-CBC',
  aes256: 'AES-256-CBC',
  aes: 'AES-256-CBC',
  '2.16.840.1.101.3.4.1.42': 'AES-256-CBC',
  'des-ede3-cbc': 'DES-EDE3-CBC',
  des3: 'DES-EDE3-CBC',
  '3des': 'DES-EDE3-CBC',
  '1.2.840.113549.3.7': 'DES-EDE3-CBC',
};

const OID = /^[0-2](\.\d+)+$/;

export interface ProfileSettings {
  readonly validityDays: number;
  readonly keyUsage: readonly KeyUsageName[];
  readonly ekus: readonly string[];
  readonly allowRenewals: boolean;
  /** A delivered renewal revokes the certificate it renews (CRLReason superseded). */
  readonly revokeSuperseded: boolean;
  readonly enableCertificateStorage: boolean;
}

export interface CoreSettings {
  readonly static: ProfileSettings & {
    readonly enabled: boolean;
    readonly requestPassword: string | undefined;
    /** Why the endpoint cannot serve (an unresolved Key Vault reference): it answers 503. */
    readonly unavailable?: string;
  };
  /** Global cap on validity, days (AppConfig__ValidityPeriodDays). */
  readonly validityPeriodDays: number;
  readonly clockSkewMinutes: number;
  readonly responseCipher: ResponseCipher;
  readonly baseUrl: string | undefined;
  /** Folder of the embedded default's local CA and generated secrets (git-ignored). */
  readonly dataDir: string;
  /**
   * Store without Cosmos DB (AppConfig__LocalStore): `sqlite` (default) keeps records in
   * `<dataDir>/ca.db`; `memory` keeps them in this process only (tests, throwaway runs).
   */
  readonly localStore: 'sqlite' | 'memory';
  readonly localCa: { readonly subject: string; readonly keySize: number; readonly validityDays: number };
  /** Largest request body accepted, bytes. */
  readonly maxBodyBytes: number;
  /** How long an instance reuses a stored endpoint before reading it again, seconds (≤ 30). */
  readonly endpointCacheSeconds: number;
  /** PKIOperations in flight per SCEP endpoint before excess is shed with 503 (SCEPman's name). */
  readonly concurrentScepRequestLimit: number;
  /** One time budget per SCEP request, every Key Vault call included, ms. */
  readonly requestBudgetMs: number;
  /** RA mode (RFC 8894 §2.2): per-endpoint RA keys and certificates (lib/ra/). */
  readonly ra: {
    /** The settings-defined endpoints run in RA mode only when set (stored ones: their `ra`). */
    readonly staticEnabled: boolean;
    readonly intuneEnabled: boolean;
    readonly validityDays: number;
    readonly renewBeforeDays: number;
    /** Key Vault key type of new RA keys. */
    readonly keyType: 'RSA' | 'RSA-HSM';
  };
}

export const CLIENT_AUTH_EKU = '1.3.6.1.5.5.7.3.2';

/**
 * A key usage list setting (`DigitalSignature,KeyEncipherment`, names case-insensitive),
 * validated and normalised to KeyUsageName; shared by every certificate profile's settings.
 */
export const keyUsageSetting = (fallback: readonly KeyUsageName[]) =>
  list(fallback).transform((names, ctx) => {
    const out: KeyUsageName[] = [];
    for (const n of names) {
      const known = KeyUsageNames.find((k) => k.toLowerCase() === n.toLowerCase());
      if (known) out.push(known);
      else
        ctx.addIssue({
          code: 'custom',
          message: `unknown key usage "${n}" (allowed: ${KeyUsageNames.join(', ')})`,
        });
    }
    return out;
  });

/** An extended key usage setting: comma-separated OIDs. */
export const ekuSetting = (fallback: readonly string[]) =>
  list(fallback).superRefine((oids, ctx) => {
    for (const o of oids) if (!OID.test(o)) ctx.addIssue({ code: 'custom', message: `"${o}" is not an OID` });
  });

const schema = z.object({
  AppConfig__StaticValidation__Enabled: bool(true),
  AppConfig__StaticValidation__RequestPassword: optionalString,
  AppConfig__StaticValidation__ValidityPeriodDays: int(undefined, 1, 36500),
  AppConfig__StaticValidation__DefaultKeyUsage: keyUsageSetting(['DigitalSignature', 'KeyEncipherment']),
  AppConfig__StaticValidation__DefaultEkus: ekuSetting([CLIENT_AUTH_EKU]),
  AppConfig__StaticValidation__AllowRenewals: bool(true),
  AppConfig__StaticValidation__RevokeSupersededOnRenewal: bool(false),
  AppConfig__StaticValidation__EnableCertificateStorage: bool(true),
  AppConfig__ValidityPeriodDays: int(730, 1, 36500),
  AppConfig__ValidityClockSkewMinutes: int(1440, 0, 10080),
  AppConfig__SCEPResponseEncryptionAlgorithm: optionalString.refine(
    (s) => s === undefined || s.toLowerCase() in responseCiphers,
    `expected one of auto, AES-128-CBC, AES-192-CBC, AES-256-CBC, DES-EDE3-CBC (or their OIDs)`,
  ),
  AppConfig__BaseUrl: optionalUrl,
  AppConfig__DataDir: optionalString,
  AppConfig__LocalStore: optionalString.refine(
    (s) => s === undefined || /^(sqlite|memory)$/i.test(s),
    'expected sqlite or memory',
  ),
  AppConfig__LocalCA__Subject: optionalString,
  AppConfig__LocalCA__KeySize: int(2048, 2048, 8192),
  AppConfig__LocalCA__DaysExpiresIn: int(3650, 1, 36500),
  AppConfig__MaxRequestBytes: int(256 * 1024, 4096, 16 * 1024 * 1024),
  AppConfig__EndpointCacheSeconds: int(30, 0, 30),
  AppConfig__ConcurrentSCEPRequestLimit: int(50, 1, 10_000),
  AppConfig__RequestBudgetSeconds: int(25, 1, 230),
  AppConfig__StaticValidation__RaEnabled: bool(false),
  AppConfig__IntuneValidation__RaEnabled: bool(false),
  AppConfig__RA__ValidityDays: int(365, 2, 3650),
  AppConfig__RA__RenewBeforeDays: int(30, 1, 3649),
  AppConfig__RA__KeyType: optionalString.refine(
    (s) => s === undefined || /^(RSA|RSA-HSM)$/.test(s),
    'expected RSA or RSA-HSM',
  ),
  // Set by App Service and Functions in Azure: secrets there must be stronger.
  WEBSITE_SITE_NAME: optionalString,
});

const PASSWORD = 'AppConfig__StaticValidation__RequestPassword';
/** Shortest static challenge accepted; in Azure longer (npm start generates 32 characters). */
const MIN_PASSWORD = { local: 8, azure: 16 } as const;

export const coreSection = section(
  schema,
  (r): CoreSettings => ({
    static: {
      enabled: r.AppConfig__StaticValidation__Enabled,
      ...(isUnresolvedReference(r.AppConfig__StaticValidation__RequestPassword)
        ? { requestPassword: undefined, unavailable: unresolvedMessage(PASSWORD) }
        : { requestPassword: r.AppConfig__StaticValidation__RequestPassword }),
      validityDays: Math.min(
        r.AppConfig__StaticValidation__ValidityPeriodDays ?? r.AppConfig__ValidityPeriodDays,
        r.AppConfig__ValidityPeriodDays,
      ),
      keyUsage: r.AppConfig__StaticValidation__DefaultKeyUsage,
      ekus: r.AppConfig__StaticValidation__DefaultEkus,
      allowRenewals: r.AppConfig__StaticValidation__AllowRenewals,
      revokeSuperseded: r.AppConfig__StaticValidation__RevokeSupersededOnRenewal,
      enableCertificateStorage: r.AppConfig__StaticValidation__EnableCertificateStorage,
    },
    validityPeriodDays: r.AppConfig__ValidityPeriodDays,
    clockSkewMinutes: r.AppConfig__ValidityClockSkewMinutes,
    responseCipher:
      responseCiphers[(r.AppConfig__SCEPResponseEncryptionAlgorithm ?? 'auto').toLowerCase()] ?? 'auto',
    baseUrl: r.AppConfig__BaseUrl,
    dataDir: r.AppConfig__DataDir ?? '.data',
    localStore: r.AppConfig__LocalStore?.toLowerCase() === 'memory' ? 'memory' : 'sqlite',
    localCa: {
      subject: r.AppConfig__LocalCA__Subject ?? 'CN=azure-scep-ca Local Root CA, O=azure-scep-ca',
      keySize: r.AppConfig__LocalCA__KeySize,
      validityDays: r.AppConfig__LocalCA__DaysExpiresIn,
    },
    maxBodyBytes: r.AppConfig__MaxRequestBytes,
    endpointCacheSeconds: r.AppConfig__EndpointCacheSeconds,
    concurrentScepRequestLimit: r.AppConfig__ConcurrentSCEPRequestLimit,
    requestBudgetMs: r.AppConfig__RequestBudgetSeconds * 1000,
    ra: {
      staticEnabled: r.AppConfig__StaticValidation__RaEnabled,
      intuneEnabled: r.AppConfig__IntuneValidation__RaEnabled,
      validityDays: r.AppConfig__RA__ValidityDays,
      renewBeforeDays: r.AppConfig__RA__RenewBeforeDays,
      keyType: r.AppConfig__RA__KeyType === 'RSA-HSM' ? 'RSA-HSM' : 'RSA',
    },
  }),
  (r) => {
    const p: string[] = [];
    if (r.AppConfig__RA__RenewBeforeDays >= r.AppConfig__RA__ValidityDays)
      p.push('AppConfig__RA__RenewBeforeDays: must be less than AppConfig__RA__ValidityDays');
    const pw = r.AppConfig__StaticValidation__RequestPassword;
    // An unresolved reference disables the endpoint (503), not the app.
    if (isUnresolvedReference(pw)) return p;
    if (r.AppConfig__StaticValidation__Enabled && pw === undefined) {
      p.push(
        `${PASSWORD}: required when AppConfig__StaticValidation__Enabled is true (npm start generates one for local use)`,
      );
    }
    const min = r.WEBSITE_SITE_NAME === undefined ? MIN_PASSWORD.local : MIN_PASSWORD.azure;
    if (pw !== undefined && pw.length < min) {
      p.push(
        `${PASSWORD}: must be at least ${min} characters${min === MIN_PASSWORD.azure ? ' in Azure' : ''}`,
      );
    }
    return p;
  },
);
