import { z } from 'zod';
import { CLIENT_AUTH_EKU, KeyUsageNames } from '../config/core.js';

/**
 * A certificate profile: what an endpoint issues and which requests it accepts. Stored with the
 * endpoint; every field has a default, so `{}` is a valid profile. The request-side rules are
 * applied by small CSR validators (lib/endpoints/profile-policy.ts); the issuing side
 * (validity, key usage, EKUs) by the issuer.
 */

/** Extended key usages known by name (RFC 5280 §4.2.1.12, Microsoft's smart-card logon). */
export const EKU_NAMES: Readonly<Record<string, string>> = {
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: CLIENT_AUTH_EKU,
  codeSigning: '1.3.6.1.5.5.7.3.3',
  emailProtection: '1.3.6.1.5.5.7.3.4',
  timeStamping: '1.3.6.1.5.5.7.3.8',
  ocspSigning: '1.3.6.1.5.5.7.3.9',
  ipsecIKE: '1.3.6.1.5.5.7.3.17',
  smartcardLogon: '1.3.6.1.4.1.311.20.2.2',
  documentSigning: '1.3.6.1.4.1.311.10.3.12',
};

/** Attribute types a subject rule may name, as RFC 4514 strings spell them. */
export const RDN_NAMES = ['CN', 'O', 'OU', 'C', 'L', 'ST', 'E', 'DC', 'UID', 'SERIALNUMBER'] as const;
export type RdnName = (typeof RDN_NAMES)[number];

export const SAN_TYPES = ['dns', 'email', 'uri', 'ip', 'upn'] as const;
export type SanType = (typeof SAN_TYPES)[number];

export const EC_CURVES = ['P-256', 'P-384', 'P-521'] as const;
export const REPLY_CIPHERS = ['auto', 'AES-128-CBC', 'AES-192-CBC', 'AES-256-CBC', 'DES-EDE3-CBC'] as const;

/** Upper bound of any profile's validity; an endpoint may not exceed the CA-wide cap either. */
export const MAX_VALIDITY_DAYS = 36500;

const OID = /^[0-2](\.(0|[1-9]\d*))+$/;

/** A regular expression given as text (ECMAScript syntax, matched against the whole value). */
const pattern = z
  .string()
  .min(1)
  .max(512)
  .refine(
    (p) => {
      try {
        new RegExp(p, 'u');
        return true;
      } catch {
        return false;
      }
    },
    { message: 'is not a valid regular expression' },
  );

/** An EKU as an OID or one of EKU_NAMES; normalised to the OID. */
const eku = z
  .string()
  .refine((s) => OID.test(s) || s in EKU_NAMES, {
    message: `is not an OID nor a known EKU name (${Object.keys(EKU_NAMES).join(', ')})`,
  })
  .transform((s) => EKU_NAMES[s] ?? s);

export const certificateProfileSchema = z.object({
  validityDays: z.number().int().min(1).max(MAX_VALIDITY_DAYS).default(365),
  keyUsage: z.array(z.enum(KeyUsageNames)).default(['DigitalSignature', 'KeyEncipherment']),
  ekus: z.array(eku).default([CLIENT_AUTH_EKU]),
  subject: z
    .object({
      /** RDN types the CSR subject must carry. */
      required: z.array(z.enum(RDN_NAMES)).default([]),
      /** RDN types the CSR subject must not carry. */
      forbidden: z.array(z.enum(RDN_NAMES)).default([]),
      /** The CN (every CN) must match this pattern in full. */
      cnPattern: pattern.optional(),
    })
    .default({ required: [], forbidden: [] }),
  san: z
    .object({
      /** SAN types the CSR may ask for; others are refused. */
      allowedTypes: z.array(z.enum(SAN_TYPES)).default([...SAN_TYPES]),
      /** Per type, a pattern every value of that type must match in full. */
      patterns: z.partialRecord(z.enum(SAN_TYPES), pattern).default({}),
    })
    .default({ allowedTypes: [...SAN_TYPES], patterns: {} }),
  key: z
    .object({
      rsaMinBits: z.number().int().min(2048).max(8192).default(2048),
      /** EC curves accepted; empty = RSA only. */
      ecCurves: z.array(z.enum(EC_CURVES)).default(['P-256', 'P-384']),
    })
    .default({ rsaMinBits: 2048, ecCurves: ['P-256', 'P-384'] }),
  renewal: z
    .object({
      /** A request signed by an unexpired certificate of this endpoint renews it without a challenge. */
      allowed: z.boolean().default(true),
      /** Renewal only within this many days before expiry; absent = any time while valid. */
      windowDays: z.number().int().min(1).max(MAX_VALIDITY_DAYS).optional(),
      /** A delivered renewal revokes the certificate it renews (CRLReason superseded). */
      revokeSuperseded: z.boolean().default(false),
    })
    .default({ allowed: true, revokeSuperseded: false }),
  /** Content cipher of the SCEP reply; `auto` answers in the request's own AES cipher, else 3DES. */
  replyCipher: z.enum(REPLY_CIPHERS).default('auto'),
  /** Keep the certificate DER in its record (GetCert, CertPoll, replays). */
  storeCertificate: z.boolean().default(true),
});

export type CertificateProfile = z.output<typeof certificateProfileSchema>;
export type CertificateProfileInput = z.input<typeof certificateProfileSchema>;

/** Rules across fields (zod checks each field on its own); every problem, as `path: message`. */
export function profileProblems(p: CertificateProfile, maxValidityDays: number): string[] {
  const out: string[] = [];
  if (p.validityDays > maxValidityDays)
    out.push(`profile.validityDays: at most ${maxValidityDays} (the CA's AppConfig__ValidityPeriodDays)`);
  for (const r of p.subject.required)
    if (p.subject.forbidden.includes(r)) out.push(`profile.subject: ${r} is both required and forbidden`);
  if (p.subject.cnPattern !== undefined && p.subject.forbidden.includes('CN'))
    out.push('profile.subject.cnPattern: CN is forbidden');
  for (const t of Object.keys(p.san.patterns))
    if (!p.san.allowedTypes.includes(t as SanType))
      out.push(`profile.san.patterns.${t}: ${t} is not in allowedTypes`);
  if (p.renewal.windowDays !== undefined && p.renewal.windowDays > p.validityDays)
    out.push('profile.renewal.windowDays: longer than the validity');
  if (p.keyUsage.length === 0 && p.ekus.length === 0)
    out.push('profile: a certificate without key usage and EKUs is usable for nothing');
  if (new Set(p.ekus).size !== p.ekus.length) out.push('profile.ekus: listed twice');
  return out;
}

export const DEFAULT_PROFILE: CertificateProfile = certificateProfileSchema.parse({});
