import { z } from 'zod';
import { optionalString, section } from './parse.js';
import { DEFAULT_AUTHORITY_HOST } from './rest.js';

/**
 * The admin console at `/admin`. With an app registration (a single-page application in
 * Microsoft Entra ID, redirect URI `https://<app>/admin`) administrators sign in with MSAL
 * (authorization code flow with PKCE) and call the management API with their access token;
 * without one the console asks for the local admin key.
 */
export interface ConsoleSettings {
  readonly entra:
    | {
        readonly clientId: string;
        readonly tenantId: string;
        /** https://login.microsoftonline.com/<tenant> */
        readonly authority: string;
        /** What the console asks tokens for; the management API must accept its audience. */
        readonly scope: string;
      }
    | undefined;
}

const schema = z.object({
  AppConfig__Console__ClientId: optionalString,
  AppConfig__Console__TenantId: optionalString,
  AppConfig__Console__Scope: optionalString,
  AppConfig__AuthConfig__TenantId: optionalString,
  AppConfig__AuthConfig__Authority: optionalString,
});

export const consoleSection = section(
  schema,
  (r): ConsoleSettings => {
    const clientId = r.AppConfig__Console__ClientId;
    const tenantId = r.AppConfig__Console__TenantId ?? r.AppConfig__AuthConfig__TenantId;
    if (clientId === undefined || tenantId === undefined) return { entra: undefined };
    const host = (r.AppConfig__AuthConfig__Authority ?? DEFAULT_AUTHORITY_HOST).replace(/\/+$/, '');
    return {
      entra: {
        clientId,
        tenantId,
        authority: `${host}/${tenantId}`,
        scope: r.AppConfig__Console__Scope ?? `api://${clientId}/.default`,
      },
    };
  },
  (r) =>
    r.AppConfig__Console__ClientId !== undefined &&
    r.AppConfig__Console__TenantId === undefined &&
    r.AppConfig__AuthConfig__TenantId === undefined
      ? ['AppConfig__Console__TenantId: required when AppConfig__Console__ClientId is set']
      : [],
);
