import { z } from 'zod';
import { list, optionalString, section } from './parse.js';
import { apiAudiences, DEFAULT_AUTHORITY_HOST, secureUrl } from './rest.js';

/**
 * The management API (`api/manage/...`): who may call it.
 *
 * - In Azure (App Service and Functions set WEBSITE_SITE_NAME), callers present Entra ID access
 *   tokens for the app registration named by AppConfig__AuthConfig__* (the same one SCEPman's
 *   REST API uses), with one of the app roles CA.Admin, CA.Operator or CA.Auditor.
 * - Locally, the composition root also accepts the admin key it keeps in the data folder
 *   (`<AppConfig__DataDir>/admin-key.txt`). That key is never accepted in Azure.
 */
export interface ManageSettings {
  /** True when running in Azure: the local admin key is refused. */
  readonly inAzure: boolean;
  /** Entra token validation; undefined when no tenant/audience is configured. */
  readonly entra:
    | {
        readonly tenantId: string;
        readonly audiences: readonly string[];
        readonly authorityHost: string;
        readonly jwksUrl: string | undefined;
      }
    | undefined;
}

const schema = z.object({
  WEBSITE_SITE_NAME: optionalString,
  /** Extra accepted audiences, e.g. a separate app registration for the console. */
  AppConfig__Management__Audiences: list([]),
  AppConfig__Management__JwksUrl: secureUrl,
  // Read-only here; defined and validated by the Intune and REST sections.
  AppConfig__AuthConfig__TenantId: optionalString,
  AppConfig__AuthConfig__ApplicationId: optionalString,
  AppConfig__AuthConfig__ApplicationIdUri: optionalString,
  AppConfig__AuthConfig__Authority: optionalString,
});
type Raw = z.output<typeof schema>;

const audiences = (r: Raw): string[] => [
  ...new Set([...apiAudiences(r), ...r.AppConfig__Management__Audiences]),
];

export const manageSection = section(
  schema,
  (r): ManageSettings => {
    const tenantId = r.AppConfig__AuthConfig__TenantId?.toLowerCase();
    const aud = audiences(r);
    return {
      inAzure: r.WEBSITE_SITE_NAME !== undefined,
      entra:
        tenantId === undefined || aud.length === 0
          ? undefined
          : {
              tenantId,
              audiences: aud,
              authorityHost: (r.AppConfig__AuthConfig__Authority ?? DEFAULT_AUTHORITY_HOST).replace(
                /\/+$/,
                '',
              ),
              jwksUrl: r.AppConfig__Management__JwksUrl,
            },
    };
  },
  (r) =>
    r.AppConfig__Management__Audiences.length > 0 && r.AppConfig__AuthConfig__TenantId === undefined
      ? ['AppConfig__AuthConfig__TenantId: required when AppConfig__Management__Audiences is set']
      : [],
);
