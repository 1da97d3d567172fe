import { z } from 'zod';
import { certificateProfileSchema, type CertificateProfile } from './profile.js';

/**
 * An endpoint: `scep/{name}` with its type, certificate profile, credentials and delegation.
 * Stored in the `endpoints` collection (id = name). The settings-defined `static` and `intune`
 * endpoints are read-only built-ins with the same shape (`builtIn: true`), never stored.
 */

export const ENDPOINT_TYPES = ['client-scep', 'device-scep', 'client-intune', 'device-intune'] as const;
export type EndpointType = (typeof ENDPOINT_TYPES)[number];

/** SCEP-type endpoints authorize with their accounts' challenges; Intune types ask Intune. */
export const isIntuneType = (t: EndpointType): boolean => t.endsWith('-intune');

/** The URL segment of `scep/{name}`. */
export const ENDPOINT_NAME = /^[a-z0-9-]{1,63}$/;
/** Names of the settings-defined endpoints; no stored endpoint may take them. */
export const BUILT_IN_NAMES = ['static', 'intune'] as const;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** An organization, optionally narrowed to one of its departments. */
export const delegationSchema = z.object({
  organization: z.string().regex(ID, 'is not an organization id'),
  department: z.string().regex(ID, 'is not a department id').optional(),
});
export type Delegation = z.output<typeof delegationSchema>;

/**
 * The one owner of something delegated to `delegations`, for its audit events: the organization
 * (and department) when there is exactly one organization, else none (then only CA.Admin sees them).
 */
export function soleOwner(delegations: readonly Partial<Delegation>[]): {
  readonly organization?: string;
  readonly department?: string;
} {
  const orgs = new Set(delegations.map((d) => d.organization));
  const [first] = delegations;
  if (orgs.size !== 1 || first?.organization === undefined) return {};
  return delegations.length === 1 && first.department !== undefined
    ? { organization: first.organization, department: first.department }
    : { organization: first.organization };
}

/**
 * A Key Vault secret identifier (`https://{vault}.vault.azure.net/secrets/{name}[/{version}]`);
 * plain http only to a vault on this machine (a local emulator), as lib/keys/keyvault.ts allows.
 */
const secretUri = z
  .url({ protocol: /^https?$/ })
  .refine(
    (u) => {
      const url = new URL(u);
      return url.protocol === 'https:' || ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
    },
    { message: 'must be https (plain http only to a vault on this machine)' },
  )
  .refine((u) => /^\/secrets\/[0-9A-Za-z-]{1,127}(\/[0-9a-f]{32})?\/?$/.test(new URL(u).pathname), {
    message: 'must name a secret: https://{vault}/secrets/{name}[/{version}]',
  });

/**
 * How the CA authenticates to one Intune tenant (Microsoft Intune "SCEP certificate management
 * API": an app registration with the scep_challenge_provider role). The secret is never stored:
 * a Key Vault secret reference, a Key Vault certificate (PEM secret with the key), or the
 * function app's managed identity as a federated credential of the app.
 */
export const intuneConnectionSchema = z.object({
  tenantId: z.string().regex(GUID, 'is not a GUID'),
  applicationId: z.string().regex(GUID, 'is not a GUID'),
  credential: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('secret'), keyVaultSecretUri: secretUri }),
    z.object({ kind: z.literal('certificate'), keyVaultSecretUri: secretUri }),
    z.object({
      kind: z.literal('managedIdentity'),
      clientId: z.string().regex(GUID, 'is not a GUID').optional(),
    }),
  ]),
  /**
   * Pull this tenant's revocation requests (Intune's downloadRevocationRequests) and revoke the
   * certificates this endpoint issued. Off by default, as AppConfig__IntuneValidation__RevocationEnabled
   * is for the settings-defined connection. Absent on endpoints stored before it existed (= off).
   */
  revocationEnabled: z.boolean().default(false),
});
/** As stored: `revocationEnabled` is absent on endpoints stored before it existed (= off). */
export type IntuneConnection = Omit<z.output<typeof intuneConnectionSchema>, 'revocationEnabled'> & {
  readonly revocationEnabled?: boolean | undefined;
};

/**
 * RA mode (RFC 8894 §2.2): the endpoint's own RA key decrypts requests and signs CertReps; the
 * CA key only signs certificates. On by default for new endpoints.
 */
export const raOptionsSchema = z.strictObject({ enabled: z.boolean().default(true) });
export type RaOptions = z.output<typeof raOptionsSchema>;

export interface Endpoint {
  readonly id: string;
  readonly name: string;
  readonly displayName: string;
  readonly type: EndpointType;
  readonly enabled: boolean;
  readonly profile: CertificateProfile;
  readonly delegatedTo: readonly Delegation[];
  /** Intune types only. */
  readonly intune?: IntuneConnection | undefined;
  /** RA mode; absent on endpoints stored before RA mode existed (= off). */
  readonly ra?: RaOptions | undefined;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** `static` / `intune` from settings: shown, never changed through the API. */
  readonly builtIn?: boolean | undefined;
}

/** What a client sends to create an endpoint (POST); the server fills in the rest. */
export const endpointInputSchema = z.strictObject({
  name: z.string().regex(ENDPOINT_NAME, 'must be 1-63 lower-case letters, digits or hyphens'),
  displayName: z.string().min(1).max(200).optional(),
  type: z.enum(ENDPOINT_TYPES),
  enabled: z.boolean().default(true),
  profile: certificateProfileSchema.default(certificateProfileSchema.parse({})),
  delegatedTo: z.array(delegationSchema).default([]),
  intune: intuneConnectionSchema.optional(),
  ra: raOptionsSchema.default({ enabled: true }),
});
export type EndpointInput = z.input<typeof endpointInputSchema>;

/**
 * The changeable part of an endpoint, after a JSON merge patch (RFC 7396) was applied to the
 * stored one: the name and type are fixed at creation.
 */
export const endpointUpdateSchema = endpointInputSchema.omit({ name: true, type: true }).extend({
  displayName: z.string().min(1).max(200),
});
export type EndpointUpdate = z.input<typeof endpointUpdateSchema>;
