import type { TokenSource } from './api';

/** `GET /admin/config.json`: Entra ID sign-in (Azure) or the local admin key. */
export type ConsoleConfig =
  { signIn: 'entra'; clientId: string; authority: string; scopes: string[] } | { signIn: 'key' };

export type Role = 'CA.Admin' | 'CA.Operator' | 'CA.Auditor';

export interface Session {
  readonly user: string;
  readonly role: Role;
  readonly token: TokenSource;
  signOut(): Promise<void>;
}

const KEY = 'scep-ca-admin-key';

/** The local admin key is CA.Admin; it lives in this tab's session storage only. */
export function keySession(key: string, onSignOut: () => void): Session {
  sessionStorage.setItem(KEY, key);
  return {
    user: 'local administrator',
    role: 'CA.Admin',
    token: () => Promise.resolve(key),
    signOut: () => {
      sessionStorage.removeItem(KEY);
      onSignOut();
      return Promise.resolve();
    },
  };
}

export const storedKey = (): string | null => sessionStorage.getItem(KEY);

const RANK: Role[] = ['CA.Admin', 'CA.Operator', 'CA.Auditor'];

/** The strongest CA.* app role in an access token (the API checks it again on every call). */
export function roleOf(token: string): Role | undefined {
  try {
    const part = token.split('.')[1] ?? '';
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/'));
    const roles = (JSON.parse(json) as { roles?: unknown }).roles;
    return RANK.find((r) => Array.isArray(roles) && roles.includes(r));
  } catch {
    return undefined;
  }
}

/**
 * Microsoft Entra ID with MSAL: authorization code flow with PKCE, redirect to /admin and back.
 * MSAL loads only in this mode (a chunk of its own).
 */
export async function entraSession(
  c: Extract<ConsoleConfig, { signIn: 'entra' }>,
): Promise<Session | undefined> {
  const { PublicClientApplication, InteractionRequiredAuthError } = await import('@azure/msal-browser');
  const msal = new PublicClientApplication({
    auth: { clientId: c.clientId, authority: c.authority, redirectUri: `${location.origin}/admin` },
    cache: { cacheLocation: 'sessionStorage' },
  });
  await msal.initialize();
  const result = await msal.handleRedirectPromise();
  const account = result?.account ?? msal.getAllAccounts()[0];
  if (!account) {
    await msal.loginRedirect({ scopes: c.scopes });
    return undefined;
  }
  const token: TokenSource = async () => {
    try {
      return (await msal.acquireTokenSilent({ account, scopes: c.scopes })).accessToken;
    } catch (e) {
      if (e instanceof InteractionRequiredAuthError)
        await msal.acquireTokenRedirect({ account, scopes: c.scopes });
      throw e;
    }
  };
  const role = roleOf(await token());
  if (!role) throw new Error('Your account has none of the roles CA.Admin, CA.Operator or CA.Auditor.');
  return {
    user: account.username,
    role,
    token,
    signOut: () => msal.logoutRedirect({ account }),
  };
}
