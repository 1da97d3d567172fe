import { z } from 'zod';
import { bool, int, list, optionalString, optionalUrl, section } from './parse.js';

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
  readonly enableCertificateStorage: boolean;
}

export interface CoreSettings {
  readonly static: ProfileSettings & {
    readonly enabled: boolean;
    readonly requestPassword: string | undefined;
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
});

export const coreSection = section(
  schema,
  (r): CoreSettings => ({
    static: {
      enabled: r.AppConfig__StaticValidation__Enabled,
      requestPassword: r.AppConfig__StaticValidation__RequestPassword,
      validityDays: Math.min(
        r.AppConfig__StaticValidation__ValidityPeriodDays ?? r.AppConfig__ValidityPeriodDays,
        r.AppConfig__ValidityPeriodDays,
      ),
      keyUsage: r.AppConfig__StaticValidation__DefaultKeyUsage,
      ekus: r.AppConfig__StaticValidation__DefaultEkus,
      allowRenewals: r.AppConfig__StaticValidation__AllowRenewals,
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
  }),
  (r) => {
    const p: string[] = [];
    if (
      r.AppConfig__StaticValidation__Enabled &&
      r.AppConfig__StaticValidation__RequestPassword === undefined
    ) {
      p.push(
        'AppConfig__StaticValidation__RequestPassword: required when AppConfig__StaticValidation__Enabled is true (npm start generates one for local use)',
      );
    }
    const pw = r.AppConfig__StaticValidation__RequestPassword;
    if (pw !== undefined && pw.length < 8) {
      p.push('AppConfig__StaticValidation__RequestPassword: must be at least 8 characters');
    }
    return p;
  },
);
