import { AppError } from '../errors.js';
import type { Account } from '../model/account.js';
import { ENDPOINT_NAME } from '../model/endpoint.js';
import { accountsOf, endpointsOf, type ManageDeps } from './manage.js';
import { createOneTimeChallenge } from './accounts.js';
import { ACCOUNT_ID_HEX, verifySecret } from './secrets.js';

/**
 * The NDES-compatible challenge page (`GET certsrv/mscep_admin/`, `scep/{name}/mscep_admin/`):
 * MDMs with an "NDES dynamic challenge" integration (Jamf Pro, Fleet, Okta, Zentral) fetch it
 * with HTTP Basic credentials and read the challenge from NDES's HTML. The credentials are an
 * `ndes` account of an endpoint; each call creates a fresh one-time challenge of that endpoint,
 * valid for 60 minutes, as NDES does.
 */
export const NDES_REALM = 'Basic realm="mscep_admin", charset="UTF-8"';

const ACCOUNT_ID = new RegExp(`^[0-9A-F]{${ACCOUNT_ID_HEX}}$`);

const unauthorized = (): AppError =>
  new AppError('UNAUTHORIZED', 'valid credentials of an NDES account are required', {
    detail: { wwwAuthenticate: NDES_REALM },
  });

/** `Basic base64(user:password)` → its parts (RFC 7617); undefined when absent or malformed. */
export function basicCredentials(header: string | null): { user: string; password: string } | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!m?.[1]) return undefined;
  const text = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = text.indexOf(':');
  return colon < 0 ? undefined : { user: text.slice(0, colon), password: text.slice(colon + 1) };
}

/**
 * The account a username names: `<endpoint>.<account id>` (the form the API returns); on a
 * per-endpoint page also the bare account id (NDES usernames may carry a `DOMAIN\` prefix,
 * which is ignored).
 */
function accountKey(
  user: string,
  endpoint: string | undefined,
): { endpoint: string; id: string } | undefined {
  const name = user.slice(user.lastIndexOf('\\') + 1);
  const dot = name.lastIndexOf('.');
  const id = (dot < 0 ? name : name.slice(dot + 1)).toUpperCase();
  const ep = dot < 0 ? endpoint : name.slice(0, dot).toLowerCase();
  // Both parts are store keys: only the shapes ids and names have (the Cosmos DB SDK throws on
  // an id with `/`, `\` or `#`, which would be reported as an outage instead of a 401).
  if (ep === undefined || !ENDPOINT_NAME.test(ep) || !ACCOUNT_ID.test(id)) return undefined;
  if (endpoint !== undefined && ep !== endpoint) return undefined;
  return { endpoint: ep, id };
}

/** Authenticate the NDES account and mint a one-time challenge; 401 for anything else. */
export async function ndesChallenge(
  d: ManageDeps,
  authorization: string | null,
  endpoint: string | undefined,
): Promise<{ challenge: string; expiresAt: string; endpoint: string }> {
  const creds = basicCredentials(authorization);
  const key = creds && accountKey(creds.user, endpoint?.toLowerCase());
  if (!creds || !key) throw unauthorized();
  const account = await accountsOf(d.docs).get(key.id, key.endpoint);
  if (!account || account.kind !== 'ndes' || !usable(account, d.clock())) throw unauthorized();
  if (!(await verifySecret(creds.password, account.secret))) throw unauthorized();
  const ep = await endpointsOf(d.docs).get(key.endpoint, key.endpoint);
  if (!ep?.enabled) throw unauthorized();
  const created = await createOneTimeChallenge(d, key.endpoint, {}, account);
  // Bookkeeping only: a concurrent call may win the write; the challenge stands either way.
  await accountsOf(d.docs)
    .replace({ ...account, uses: account.uses + 1, lastUsedAt: d.clock().toISOString() }, account.etag)
    .catch(() => undefined);
  return { challenge: created.challenge, expiresAt: created.expiresAt, endpoint: key.endpoint };
}

function usable(a: Account, now: Date): boolean {
  return (
    a.enabled &&
    (a.expiresAt === undefined || Date.parse(a.expiresAt) > now.getTime()) &&
    (a.maxUses === undefined || a.uses < a.maxUses)
  );
}

/**
 * NDES's page, as Windows Server answers it: HTML in UTF-16LE with a byte order mark, the CA
 * thumbprint first and then `The enrollment challenge password is: <B> … </B>` (the line every
 * integration's parser anchors on).
 */
export function ndesPage(challenge: string, caThumbprint: string, minutes: number): Uint8Array {
  const groups =
    caThumbprint
      .toUpperCase()
      .match(/.{1,8}/g)
      ?.join(' ') ?? '';
  const html =
    '<HTML><Head><Meta HTTP-Equiv="Content-Type" Content="text/html; charset=UTF-16">' +
    '<Title>Network Device Enrollment Service</Title></Head>' +
    '<Body BgColor=#FFFFFF><Font ID=Verdana>' +
    '<P> Network Device Enrollment Service allows you to obtain certificates for routers or other network devices using the Simple Certificate Enrollment Protocol (SCEP). ' +
    '<P> To complete certificate enrollment for your network device you will need the following information: ' +
    `<P> The thumbprint (hash value) for the CA certificate is: <B> ${groups} </B> ` +
    `<P> The enrollment challenge password is: <B> ${challenge} </B> ` +
    `<P> This password can be used only once and will expire within ${minutes} minutes. ` +
    '<P> Each enrollment requires a new challenge password. You can refresh this web page to obtain a new challenge password. ' +
    '</Font></Body></HTML>';
  return new Uint8Array(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(html, 'utf16le')]));
}
