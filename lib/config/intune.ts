import { z } from 'zod';
import { isCheckedSetting, isUnresolvedReference, unresolvedMessage } from './secrets.js';
import { CLIENT_AUTH_EKU, ekuSetting, keyUsageSetting, type ProfileSettings } from './core.js';
import { bool, int, optionalString, optionalUrl, section, type Section } from './parse.js';
import { secureUrl } from './rest.js';

/**
 * Intune dynamic challenge validation (Microsoft Intune "Use a third-party CA with SCEP"
 * and its SCEP validation library, Microsoft/Intune-Resource-Access). Setting names
 * follow SCEPman where the concept exists (AppConfig:IntuneValidation:*, AppConfig:AuthConfig:*);
 * the endpoint URLs default to the public cloud and can be pointed at a sovereign cloud.
 */

export type IntuneCredentialSettings =
  | { readonly kind: 'secret'; readonly secret: string }
  | { readonly kind: 'certificate'; readonly pem: string }
  | { readonly kind: 'managedIdentity'; readonly clientId: string | undefined; readonly audience: string };

export interface IntuneAuthSettings {
  readonly tenantId: string;
  readonly applicationId: string;
  readonly credential: IntuneCredentialSettings;
  /** Entra ID authority host, ends with "/". */
  readonly authority: string;
}

/** Where the notification queue lives: the Functions convention of a connection setting prefix. */
export type QueueConnection =
  | { readonly kind: 'connectionString'; readonly connectionString: string }
  | {
      readonly kind: 'accountUrl';
      readonly url: string;
      readonly managedIdentityClientId: string | undefined;
    };

export interface IntuneSettings {
  /** Why the endpoint cannot serve (an unresolved Key Vault reference): it answers 503. */
  readonly unavailable?: string;
  readonly enabled: boolean;
  /** Certificate profile of the Intune endpoint. */
  readonly profile: ProfileSettings & { readonly copyRequestedExtensions: boolean };
  readonly waitForSuccessNotificationResponse: boolean;
  /** Set when ApplicationId, TenantId and a credential are configured (always when enabled). */
  readonly auth: IntuneAuthSettings | undefined;
  /** Entra ID authority host, ends with "/" (also for stored endpoints' Intune connections). */
  readonly authority: string;
  /**
   * Audience of a managed identity token used as a federated credential: the cloud's token
   * exchange (`api://AzureADTokenExchange`, …USGov, …China), for every connection.
   */
  readonly federatedTokenAudience: string;
  readonly graphBaseUrl: string;
  readonly graphApiVersion: string;
  readonly intuneResourceUrl: string;
  readonly intuneAppId: string;
  readonly scepApiVersion: string;
  readonly providerNameAndVersion: string;
  readonly timeoutMs: number;
  readonly queue: {
    readonly name: string;
    readonly poisonName: string;
    /** Name of the connection setting (prefix), for the queue trigger's `connection`. */
    readonly connectionSetting: string;
    readonly connection: QueueConnection | undefined;
  };
  readonly notifications: { readonly maxAttempts: number; readonly redriveAfterMinutes: number };
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Azure Storage queue names: 3-63 lower-case letters, digits and single hyphens; "-poison" is appended.
const QUEUE_NAME = /^[a-z0-9](?!.*--)[a-z0-9-]{1,54}[a-z0-9]$/;
const withSlash = (u: string): string => (u.endsWith('/') ? u : `${u}/`);

const schema = z.object({
  AppConfig__IntuneValidation__Enabled: bool(false),
  AppConfig__IntuneValidation__ValidityPeriodDays: int(undefined, 1, 36500),
  AppConfig__IntuneValidation__DefaultKeyUsage: keyUsageSetting(['DigitalSignature', 'KeyEncipherment']),
  AppConfig__IntuneValidation__DefaultEkus: ekuSetting([CLIENT_AUTH_EKU]),
  AppConfig__IntuneValidation__CopyRequestedExtensions: bool(true),
  AppConfig__IntuneValidation__EnableCertificateStorage: bool(true),
  AppConfig__IntuneValidation__AllowRenewals: bool(true),
  AppConfig__IntuneValidation__RevokeSupersededOnRenewal: bool(false),
  AppConfig__IntuneValidation__WaitForSuccessNotificationResponse: bool(false),
  AppConfig__IntuneValidation__GraphBaseUrl: secureUrl,
  AppConfig__IntuneValidation__GraphApiVersion: optionalString,
  AppConfig__IntuneValidation__IntuneResourceUrl: optionalUrl,
  AppConfig__IntuneValidation__IntuneAppId: optionalString.refine(
    (s) => s === undefined || GUID.test(s),
    'expected a GUID',
  ),
  AppConfig__IntuneValidation__ApiVersion: optionalString,
  AppConfig__IntuneValidation__ProviderNameAndVersion: optionalString,
  AppConfig__IntuneValidation__RequestTimeoutSeconds: int(30, 1, 120),
  AppConfig__IntuneValidation__NotificationQueueName: optionalString.refine(
    (s) => s === undefined || QUEUE_NAME.test(s),
    'expected 3-56 lower-case letters, digits and single hyphens (an Azure queue name; "-poison" is appended)',
  ),
  AppConfig__IntuneValidation__NotificationQueueConnection: optionalString,
  AppConfig__IntuneValidation__NotificationMaxAttempts: int(8, 1, 100),
  // Past the worker's longest retry delay (15 min, notification-settle.ts) with room for the
  // queue's polling and the call itself: a shorter age re-drives records whose retry is only waiting.
  AppConfig__IntuneValidation__NotificationRedriveAfterMinutes: int(60, 30, 10080),
  AppConfig__AuthConfig__ApplicationId: optionalString.refine(
    (s) => s === undefined || GUID.test(s),
    'expected a GUID',
  ),
  AppConfig__AuthConfig__ApplicationKey: optionalString,
  AppConfig__AuthConfig__ApplicationCertificatePem: optionalString,
  AppConfig__AuthConfig__UseManagedIdentity: bool(false),
  AppConfig__AuthConfig__ManagedIdentityClientId: optionalString,
  AppConfig__AuthConfig__FederatedTokenAudience: optionalString,
  AppConfig__AuthConfig__TenantId: optionalString,
  // Client secrets and assertions go to the authority, and the REST and management APIs fetch
  // their token signing keys under it: https, like every JWKS address (lib/config/rest.ts).
  AppConfig__AuthConfig__Authority: secureUrl,
});
type Raw = z.output<typeof schema>;

const federatedAudience = (r: Raw): string =>
  r.AppConfig__AuthConfig__FederatedTokenAudience ?? 'api://AzureADTokenExchange';

function credentialOf(r: Raw): IntuneCredentialSettings | undefined {
  if (r.AppConfig__AuthConfig__ApplicationCertificatePem !== undefined) {
    return { kind: 'certificate', pem: r.AppConfig__AuthConfig__ApplicationCertificatePem };
  }
  if (r.AppConfig__AuthConfig__ApplicationKey !== undefined) {
    return { kind: 'secret', secret: r.AppConfig__AuthConfig__ApplicationKey };
  }
  if (r.AppConfig__AuthConfig__UseManagedIdentity) {
    return {
      kind: 'managedIdentity',
      clientId: r.AppConfig__AuthConfig__ManagedIdentityClientId,
      audience: federatedAudience(r),
    };
  }
  return undefined;
}

/** The first Intune credential setting that still holds a Key Vault reference. */
function unresolvedSecret(r: Raw): string | undefined {
  const secrets = {
    AppConfig__AuthConfig__ApplicationKey: r.AppConfig__AuthConfig__ApplicationKey,
    AppConfig__AuthConfig__ApplicationCertificatePem: r.AppConfig__AuthConfig__ApplicationCertificatePem,
  };
  return Object.entries(secrets).find(([, v]) => isUnresolvedReference(v))?.[0];
}

/** Functions connection convention: `<prefix>` = connection string, or `<prefix>__queueServiceUri` / `__accountName`. */
function queueConnection(
  env: Readonly<Record<string, string | undefined>>,
  prefix: string,
): QueueConnection | undefined {
  const cs = env[prefix]?.trim();
  if (cs) return { kind: 'connectionString', connectionString: cs };
  const uri = env[`${prefix}__queueServiceUri`]?.trim();
  const account = env[`${prefix}__accountName`]?.trim();
  const url = uri || (account ? `https://${account}.queue.core.windows.net` : undefined);
  if (!url) return undefined;
  return {
    kind: 'accountUrl',
    url,
    managedIdentityClientId: env[`${prefix}__clientId`]?.trim() || undefined,
  };
}

const base = section(
  schema,
  (r) => r,
  (r) => {
    if (!r.AppConfig__IntuneValidation__Enabled) return [];
    const p: string[] = [];
    const need = 'required when AppConfig__IntuneValidation__Enabled is true';
    if (r.AppConfig__AuthConfig__ApplicationId === undefined)
      p.push(`AppConfig__AuthConfig__ApplicationId: ${need}`);
    if (r.AppConfig__AuthConfig__TenantId === undefined) p.push(`AppConfig__AuthConfig__TenantId: ${need}`);
    if (credentialOf(r) === undefined && unresolvedSecret(r) === undefined) {
      p.push(
        `AppConfig__AuthConfig__ApplicationKey: ${need} (or AppConfig__AuthConfig__ApplicationCertificatePem, or AppConfig__AuthConfig__UseManagedIdentity=true)`,
      );
    }
    return p;
  },
);

function profileOf(r: Raw, env: Readonly<Record<string, string | undefined>>): IntuneSettings['profile'] {
  // The global cap is validated by the core section; here it only bounds this profile.
  const globalCap = Number(env.AppConfig__ValidityPeriodDays?.trim() || '730');
  const cap = Number.isInteger(globalCap) && globalCap > 0 ? globalCap : 730;
  return {
    validityDays: Math.min(r.AppConfig__IntuneValidation__ValidityPeriodDays ?? cap, cap),
    keyUsage: r.AppConfig__IntuneValidation__DefaultKeyUsage,
    ekus: r.AppConfig__IntuneValidation__DefaultEkus,
    allowRenewals: r.AppConfig__IntuneValidation__AllowRenewals,
    revokeSuperseded: r.AppConfig__IntuneValidation__RevokeSupersededOnRenewal,
    enableCertificateStorage: r.AppConfig__IntuneValidation__EnableCertificateStorage,
    copyRequestedExtensions: r.AppConfig__IntuneValidation__CopyRequestedExtensions,
  };
}

/** Set when ApplicationId, TenantId and a usable credential are all configured. */
function authOf(
  r: Raw,
  credential: IntuneCredentialSettings | undefined,
  authority: string,
): IntuneAuthSettings | undefined {
  return r.AppConfig__AuthConfig__ApplicationId !== undefined &&
    r.AppConfig__AuthConfig__TenantId !== undefined &&
    credential !== undefined
    ? {
        applicationId: r.AppConfig__AuthConfig__ApplicationId,
        tenantId: r.AppConfig__AuthConfig__TenantId,
        credential,
        authority,
      }
    : undefined;
}

export const intuneSection: Section<IntuneSettings> = (env) => {
  const b = base(env);
  if (!b.ok) return b;
  const r = b.value;
  const connectionSetting =
    r.AppConfig__IntuneValidation__NotificationQueueConnection ?? 'AzureWebJobsStorage';
  // A connection setting of another name holding the reference text would otherwise be taken
  // for a connection string.
  if (isUnresolvedReference(env[connectionSetting]) && !isCheckedSetting(connectionSetting)) {
    return { ok: false, problems: [unresolvedMessage(connectionSetting)] };
  }
  const connection = queueConnection(env, connectionSetting);
  if (r.AppConfig__IntuneValidation__Enabled && connection === undefined) {
    return {
      ok: false,
      problems: [
        `${connectionSetting}: required when AppConfig__IntuneValidation__Enabled is true (the Intune notification queue lives there; a connection string, or ${connectionSetting}__queueServiceUri)`,
      ],
    };
  }
  const unresolved = unresolvedSecret(r);
  const credential = unresolved === undefined ? credentialOf(r) : undefined;
  const name = r.AppConfig__IntuneValidation__NotificationQueueName ?? 'intune-notifications';
  const authority = withSlash(r.AppConfig__AuthConfig__Authority ?? 'https://login.microsoftonline.com/');
  return {
    ok: true,
    value: {
      enabled: r.AppConfig__IntuneValidation__Enabled,
      ...(unresolved === undefined ? {} : { unavailable: unresolvedMessage(unresolved) }),
      profile: profileOf(r, env),
      waitForSuccessNotificationResponse: r.AppConfig__IntuneValidation__WaitForSuccessNotificationResponse,
      auth: authOf(r, credential, authority),
      authority,
      federatedTokenAudience: federatedAudience(r),
      graphBaseUrl: withSlash(r.AppConfig__IntuneValidation__GraphBaseUrl ?? 'https://graph.microsoft.com/'),
      graphApiVersion: r.AppConfig__IntuneValidation__GraphApiVersion ?? '1.0',
      intuneResourceUrl: withSlash(
        r.AppConfig__IntuneValidation__IntuneResourceUrl ?? 'https://api.manage.microsoft.com/',
      ),
      intuneAppId: r.AppConfig__IntuneValidation__IntuneAppId ?? '0000000a-0000-0000-c000-000000000000',
      scepApiVersion: r.AppConfig__IntuneValidation__ApiVersion ?? '2018-02-20',
      providerNameAndVersion: r.AppConfig__IntuneValidation__ProviderNameAndVersion ?? 'azure-scep-ca/0.1.0',
      timeoutMs: r.AppConfig__IntuneValidation__RequestTimeoutSeconds * 1000,
      queue: { name, poisonName: `${name}-poison`, connectionSetting, connection },
      notifications: {
        maxAttempts: r.AppConfig__IntuneValidation__NotificationMaxAttempts,
        redriveAfterMinutes: r.AppConfig__IntuneValidation__NotificationRedriveAfterMinutes,
      },
    },
  };
};
