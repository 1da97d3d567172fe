import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { certificatesIn } from '../lib/ca/subordinate.js';
import { pemBlock } from '../lib/x509/pem.js';
import { humanText, problemText } from './admin-text.js';
import { localSettings, root } from './local/settings.js';

const USAGE = `Usage: npm run -s admin -- <command> [options]

  endpoints list | show NAME | delete NAME
  endpoints create NAME --type device-scep|client-scep|device-intune|client-intune
                    [--display-name TEXT] [--org ORG[/DEPT]]
  endpoints update NAME [--enable|--disable] [--display-name TEXT] [--patch JSON]
  accounts list ENDPOINT | delete ENDPOINT ID | disable ENDPOINT ID | enable ENDPOINT ID
  accounts create ENDPOINT NAME [--kind challenge|ndes] [--org ORG[/DEPT]]
                    [--expires ISO-DATE] [--max-uses N]
  challenge ENDPOINT [--minutes N]        a one-time challenge (default 60 minutes)
  organizations list | create ID --display-name TEXT
  certificates search [TEXT] [--subject S] [--san S] [--serial HEX] [--thumbprint HEX]
                    [--endpoint E] [--account ID] [--org ORG] [--status issued|revoked]
                    [--expiring-before ISO-DATE] [--top N]
  certificates show SERIAL
  revoke SERIAL [--reason keyCompromise|superseded|...]
  ca list | ca next-create [SUBJECT] [--parent external] | ca next-activate
                    CA certificates and rollover; --parent external makes the next CA's key and
                    a PKCS#10 request for an external parent CA instead of a self-signed root
  ca next-request   print the pending request (PEM) for the external parent CA
  ca next-install FILE...   install what the parent CA signed (PEM, DER or PKCS#7 with chain)

Options: --url URL (default http://127.0.0.1:7071, or the port in PORT), --key KEY (default:
admin-key.txt in the data folder: AppConfig__DataDir from the environment or
local.settings.json, else .data), --json (print the API's JSON).
The CLI speaks only the management API (api/manage/), so it works against Azure as well with
--key set to an Entra ID access token.`;

const OPTIONS = {
  url: { type: 'string' },
  key: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean' },
  type: { type: 'string' },
  'display-name': { type: 'string' },
  org: { type: 'string' },
  enable: { type: 'boolean' },
  disable: { type: 'boolean' },
  patch: { type: 'string' },
  kind: { type: 'string' },
  expires: { type: 'string' },
  'max-uses': { type: 'string' },
  minutes: { type: 'string' },
  subject: { type: 'string' },
  san: { type: 'string' },
  serial: { type: 'string' },
  thumbprint: { type: 'string' },
  endpoint: { type: 'string' },
  account: { type: 'string' },
  status: { type: 'string' },
  'expiring-before': { type: 'string' },
  top: { type: 'string' },
  reason: { type: 'string' },
  parent: { type: 'string' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

/** One API call: method, path under api/manage/, optional body; or a usage error. */
interface Call {
  readonly method: string;
  readonly path: string;
  readonly body?: unknown;
  /** Certificate files sent as the body (PEM), instead of JSON. */
  readonly files?: readonly string[];
  /** The answer is a download (text), printed as it is, rather than the API's JSON. */
  readonly download?: boolean;
}

export interface AdminCliDeps {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly fetch?: typeof fetch;
}

const enc = encodeURIComponent;

function owner(v: string | undefined): Record<string, string> {
  if (v === undefined) return {};
  const [organization = '', department] = v.split('/');
  return department === undefined ? { organization } : { organization, department };
}

function defined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, x]) => x !== undefined));
}

/** Map a command line to a management API call; undefined for a usage error. */
// eslint-disable-next-line max-lines-per-function -- one flat case per CLI command, side by side with USAGE; split up it no longer reads as the command table it is
export function toCall(args: readonly string[], v: Values): Call | undefined {
  const [group, verb, a, b] = args;
  const num = (s: string | undefined): number | undefined => (s === undefined ? undefined : Number(s));
  switch (`${group ?? ''} ${group === 'challenge' || group === 'revoke' ? '' : (verb ?? '')}`.trim()) {
    case 'endpoints list':
      return { method: 'GET', path: `endpoints${v.top ? `?top=${enc(v.top)}` : ''}` };
    case 'endpoints show':
      return a ? { method: 'GET', path: `endpoints/${enc(a)}` } : undefined;
    case 'endpoints delete':
      return a ? { method: 'DELETE', path: `endpoints/${enc(a)}` } : undefined;
    case 'endpoints create': {
      if (!a || !v.type) return undefined;
      const delegatedTo = v.org ? [owner(v.org)] : undefined;
      return {
        method: 'POST',
        path: 'endpoints',
        body: defined({ name: a, type: v.type, displayName: v['display-name'], delegatedTo }),
      };
    }
    case 'endpoints update': {
      if (!a) return undefined;
      const enabled = v.enable ? true : v.disable ? false : undefined;
      const patch = {
        ...(v.patch ? (JSON.parse(v.patch) as object) : {}),
        ...defined({ enabled, displayName: v['display-name'] }),
      };
      return { method: 'PATCH', path: `endpoints/${enc(a)}`, body: patch };
    }
    case 'accounts list':
      return a ? { method: 'GET', path: `endpoints/${enc(a)}/accounts` } : undefined;
    case 'accounts create':
      return a && b
        ? {
            method: 'POST',
            path: `endpoints/${enc(a)}/accounts`,
            body: defined({
              name: b,
              kind: v.kind,
              ...owner(v.org),
              expiresAt: v.expires,
              maxUses: num(v['max-uses']),
            }),
          }
        : undefined;
    case 'accounts disable':
    case 'accounts enable':
      return a && b
        ? {
            method: 'PATCH',
            path: `endpoints/${enc(a)}/accounts/${enc(b)}`,
            body: { enabled: verb === 'enable' },
          }
        : undefined;
    case 'accounts delete':
      return a && b ? { method: 'DELETE', path: `endpoints/${enc(a)}/accounts/${enc(b)}` } : undefined;
    case 'challenge':
      return verb
        ? {
            method: 'POST',
            path: `endpoints/${enc(verb)}/challenges`,
            body: defined({ minutes: num(v.minutes) }),
          }
        : undefined;
    case 'organizations list':
      return { method: 'GET', path: 'organizations' };
    case 'organizations create':
      return a
        ? { method: 'POST', path: 'organizations', body: { id: a, displayName: v['display-name'] ?? a } }
        : undefined;
    case 'certificates search': {
      const q = defined({
        search: a,
        subject: v.subject,
        san: v.san,
        serial: v.serial,
        thumbprint: v.thumbprint,
        endpoint: v.endpoint,
        account: v.account,
        organization: v.org,
        status: v.status,
        expiringBefore: v['expiring-before'],
        top: v.top,
      }) as Record<string, string>;
      const qs = new URLSearchParams(q).toString();
      return { method: 'GET', path: `certificates${qs ? `?${qs}` : ''}` };
    }
    case 'certificates show':
      return a ? { method: 'GET', path: `certificates/${enc(a)}` } : undefined;
    case 'revoke':
      return verb
        ? { method: 'POST', path: `certificates/${enc(verb)}/revoke`, body: defined({ reason: v.reason }) }
        : undefined;
    case 'ca list':
      return { method: 'GET', path: 'ca-certificates' };
    case 'ca next-create':
      return {
        method: 'POST',
        path: 'ca-certificates/next',
        body: defined({ subject: a, parent: v.parent }),
      };
    case 'ca next-request':
      return { method: 'GET', path: 'ca-certificates/next/request?format=pem', download: true };
    case 'ca next-install':
      return args.length > 2
        ? { method: 'POST', path: 'ca-certificates/next/certificate', files: args.slice(2) }
        : undefined;
    case 'ca next-activate':
      return { method: 'POST', path: 'ca-certificates/next/activate' };
    default:
      return undefined;
  }
}

/** Run one command; returns the exit code (0 ok, 1 refused by the API or unreachable, 2 usage). */
export async function runAdmin(argv: readonly string[], d: AdminCliDeps): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    d.err(`${e instanceof Error ? e.message : String(e)}\n\n${USAGE}`);
    return 2;
  }
  const { values: v, positionals } = parsed;
  if (v.help) {
    d.out(USAGE); // asked for: stdout and success, so `npm run admin -- --help` ends without npm's error
    return 0;
  }
  let call: Call | undefined;
  try {
    call = toCall(positionals, v);
  } catch {
    call = undefined; // --patch that is not JSON
  }
  if (!call) {
    d.err(USAGE);
    return 2;
  }
  const key = v.key ?? (await localKey(d.env));
  const url = (v.url ?? `http://127.0.0.1:${d.env.PORT?.trim() || '7071'}`).replace(/\/+$/, '');
  let res: Response;
  try {
    const payload = await requestBody(call);
    res = await (d.fetch ?? fetch)(`${url}/api/manage/${call.path}`, {
      method: call.method,
      headers: {
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(payload ? { 'content-type': payload.type } : {}),
      },
      ...(payload ? { body: payload.text } : {}),
    });
  } catch (e) {
    d.err(
      `cannot ${call.files ? 'read the files or reach' : 'reach'} ${url}: ${e instanceof Error ? e.message : String(e)}`,
    );
    return 1;
  }
  const code = await printAnswer(res, call, v.json === true, d);
  if (res.status === 401 && key === undefined)
    d.err(`no admin key: none given with --key, none in ${keyFile(d.env)}`);
  return code;
}

/** The API's answer on stdout (success) or stderr (a refusal, or not the API at all); the exit code. */
async function printAnswer(res: Response, call: Call, json: boolean, d: AdminCliDeps): Promise<number> {
  const text = await res.text();
  if (res.ok && call.download) {
    d.out(text.trimEnd()); // the pending request as PEM
    return 0;
  }
  const body = apiJson(res, text);
  if (body === NOT_API) {
    // A --url that is not the app (the console's page, a proxy's or another server's answer).
    const type = res.headers.get('content-type') ?? 'no content type';
    const first = text.trim().split('\n')[0]?.slice(0, 120) ?? '';
    d.err(
      `error ${res.status}: ${type} answer "${first}", not the management API's; is --url the app's base URL?`,
    );
    return 1;
  }
  if (!res.ok) {
    d.err(json ? text : problemText(res.status, body));
    return 1;
  }
  if (json) d.out(text === '' ? '{}' : text);
  else d.out(humanText(body));
  return 0;
}

const NOT_API = Symbol('not the management API');

/** The API's JSON answer (undefined when empty), or NOT_API for anything else. */
function apiJson(res: Response, text: string): unknown {
  if (text === '') return undefined;
  if (!(res.headers.get('content-type') ?? '').includes('json')) return NOT_API;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return NOT_API;
  }
}

/** JSON, or certificate files as PEM (each file PEM, DER or PKCS#7). */
async function requestBody(call: Call): Promise<{ type: string; text: string } | undefined> {
  if (call.files) {
    const certs = (await Promise.all(call.files.map((f) => readFile(f)))).flatMap((b) => certificatesIn(b));
    return { type: 'application/x-pem-file', text: certs.map((c) => pemBlock('CERTIFICATE', c)).join('') };
  }
  return call.body === undefined ? undefined : { type: 'application/json', text: JSON.stringify(call.body) };
}

/** local.settings.json's Values under the environment, as `npm start` reads them (PORT, AppConfig__DataDir). */
export function adminEnvironment(
  env: NodeJS.ProcessEnv,
  settingsFile?: string,
): Record<string, string | undefined> {
  return { ...localSettings(settingsFile), ...env };
}

/** Where `npm start` keeps the admin key: the same data folder rule as scripts/local/settings.ts. */
const keyFile = (env: AdminCliDeps['env']): string =>
  join(env.AppConfig__DataDir ?? join(root, '.data'), 'admin-key.txt');

async function localKey(env: AdminCliDeps['env']): Promise<string | undefined> {
  try {
    return (await readFile(keyFile(env), 'utf8')).trim();
  } catch {
    return undefined;
  }
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  const out = (l: string): void => void process.stdout.write(`${l}\n`);
  const err = (l: string): void => void process.stderr.write(`${l}\n`);
  let env: AdminCliDeps['env'] | undefined;
  try {
    env = adminEnvironment(process.env);
  } catch (e) {
    err(`admin: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 2;
  }
  if (env)
    void runAdmin(process.argv.slice(2), { env, out, err }).then((code) => {
      process.exitCode = code;
    });
}
