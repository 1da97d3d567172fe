import { z } from 'zod';

/**
 * An account: one credential of a SCEP-type endpoint (Sectigo Certificate Manager's SCEP
 * "accounts"). Stored in the `accounts` collection, partitioned by endpoint.
 *
 * - `challenge`: a challenge password to put into an MDM's SCEP profile.
 * - `one-time`: a challenge valid for one enrollment (maxUses 1) until it expires.
 * - `ndes`: a username/password for the NDES-compatible challenge page
 *   (`GET certsrv/mscep_admin/`), which hands out fresh one-time challenges.
 *
 * The secret is shown once, at creation; the store keeps only its scrypt hash. The challenge is
 * `<account id><secret>` in upper-case hex, so the account is found by its id and only the
 * secret part is compared (in constant time).
 */
export const ACCOUNT_KINDS = ['challenge', 'one-time', 'ndes'] as const;
export type AccountKind = (typeof ACCOUNT_KINDS)[number];

/** scrypt parameters and output, as stored (RFC 7914). */
export interface SecretHash {
  readonly alg: 'scrypt';
  readonly N: number;
  readonly r: number;
  readonly p: number;
  /** base64 */
  readonly salt: string;
  /** base64 */
  readonly hash: string;
}

export interface Account {
  /** 16 upper-case hex characters: the first part of the challenge (or the NDES username). */
  readonly id: string;
  /** The endpoint's id (partition key). */
  readonly endpoint: string;
  readonly kind: AccountKind;
  readonly name: string;
  readonly organization?: string | undefined;
  readonly department?: string | undefined;
  readonly enabled: boolean;
  readonly expiresAt?: string | undefined;
  readonly maxUses?: number | undefined;
  readonly uses: number;
  readonly lastUsedAt?: string | undefined;
  readonly secret: SecretHash;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** An account as the API shows it: never the hash. */
export type AccountView = Omit<Account, 'secret'>;

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export const accountInputSchema = z.strictObject({
  name: z.string().min(1).max(200),
  kind: z.enum(['challenge', 'ndes']).default('challenge'),
  organization: z.string().regex(ID, 'is not an organization id').optional(),
  department: z.string().regex(ID, 'is not a department id').optional(),
  enabled: z.boolean().default(true),
  expiresAt: z.iso.datetime({ offset: true }).optional(),
  maxUses: z.number().int().min(1).optional(),
});
export type AccountInput = z.input<typeof accountInputSchema>;

/** The changeable part of an account, after a merge patch was applied to the stored one. */
export const accountUpdateSchema = accountInputSchema.omit({ kind: true });
export type AccountUpdate = z.input<typeof accountUpdateSchema>;

/** Default lifetime of a one-time challenge: NDES's 60 minutes. */
export const ONE_TIME_DEFAULT_MINUTES = 60;
export const oneTimeInputSchema = z.strictObject({
  minutes: z
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 60)
    .default(ONE_TIME_DEFAULT_MINUTES),
  organization: z.string().regex(ID).optional(),
  department: z.string().regex(ID).optional(),
});
export type OneTimeInput = z.input<typeof oneTimeInputSchema>;
