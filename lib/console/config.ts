import type { ConsoleSettings } from '../config/console.js';

/**
 * `GET /admin/config.json`: how the console signs in. Public by design (the client id and
 * tenant of a single-page application are not secrets); no key, no token.
 */
export type ConsoleConfig =
  | {
      readonly signIn: 'entra';
      readonly clientId: string;
      readonly authority: string;
      readonly scopes: string[];
    }
  | { readonly signIn: 'key' };

export function consoleConfig(s: ConsoleSettings): ConsoleConfig {
  return s.entra
    ? { signIn: 'entra', clientId: s.entra.clientId, authority: s.entra.authority, scopes: [s.entra.scope] }
    : { signIn: 'key' };
}

/** The console page's Content-Security-Policy: its own files, the API, and the sign-in authority. */
export function consoleCsp(s: ConsoleSettings): string {
  const login = s.entra ? ` ${new URL(s.entra.authority).origin}` : '';
  return [
    "default-src 'self'",
    `connect-src 'self'${login}`,
    `frame-src${login || " 'none'"}`,
    "img-src 'self' data:",
    "style-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}
