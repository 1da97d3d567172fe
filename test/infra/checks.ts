import { decorator, type Node, parseBicep, propertyAt, type Statement } from '../helpers/bicep-parse.js';
import {
  allInstances,
  deploy,
  type Deployment,
  evaluate,
  type Files,
  type Instance,
  Ref,
  render,
  Sym,
  type Value,
} from '../helpers/bicep-eval.js';
import { type Bound, PLATFORM_BOUNDS, SCHEMAS } from './azure-schema.js';

/**
 * Checks of infra/ that read the templates as ARM would expand them (test/helpers/bicep-eval.ts):
 * each returns the problems it finds, so a test can assert "none" for the real template and
 * "this one" for a template with a known mistake (test/infra/mutations.test.ts).
 */

export interface Problem {
  readonly check: string;
  readonly message: string;
}

export const MAIN = 'infra/main.bicep';

/** Parameter sets of main.bicep the checks expand: first deployments of each supported setup. */
export const SCENARIOS: Readonly<Record<string, Readonly<Record<string, Value>>>> = {
  defaults: { environmentName: 'env', staticChallenge: 'static-challenge-1' },
  'intune (secret), REST API, bootstrap user': {
    environmentName: 'env',
    staticChallenge: 'static-challenge-1',
    intuneEnabled: true,
    entraApplicationId: 'app-id',
    intuneAppSecret: 'intune-secret',
    restApiEnabled: true,
    bootstrapPrincipalId: 'bootstrap-object-id',
  },
  'intune (managed identity), custom key role': {
    environmentName: 'env',
    staticChallenge: 'static-challenge-1',
    intuneEnabled: true,
    intuneUseManagedIdentity: true,
    useCustomCryptoRole: true,
    bootstrapPrincipalId: 'bootstrap-group-id',
    bootstrapPrincipalType: 'Group',
  },
  'app creates no keys': {
    environmentName: 'env',
    staticChallenge: 'static-challenge-1',
    appCreatesKeys: false,
  },
  'app creates no keys, custom key role': {
    environmentName: 'env',
    staticChallenge: 'static-challenge-1',
    appCreatesKeys: false,
    useCustomCryptoRole: true,
  },
};

export function expand(files: Files, scenario: Readonly<Record<string, Value>>): Deployment {
  return deploy(files, MAIN, scenario);
}

const bicepFiles = (files: Files): string[] => Object.keys(files).filter((f) => f.endsWith('.bicep'));

/** Full type and API version of every resource declaration (nested ones expanded). */
function resourceTypes(files: Files): { file: string; st: Statement; type: string }[] {
  return bicepFiles(files).flatMap((file) => {
    const sts = parseBicep(files[file]!);
    const full = (st: Statement): string => {
      if (st.parent === undefined) return st.type;
      const [t, v] = st.type.split('@');
      const [pt, pv] = full(sts.find((p) => p.kind === 'resource' && p.name === st.parent)!).split('@');
      return `${pt}/${t}@${v ?? pv}`;
    };
    return sts.filter((s) => s.kind === 'resource').map((st) => ({ file, st, type: full(st) }));
  });
}

export function checkApiVersions(files: Files): Problem[] {
  return resourceTypes(files)
    .filter(({ type }) => SCHEMAS[type] === undefined)
    .map(({ file, st, type }) => ({
      check: 'api-version',
      message: `${file}:${st.line} ${st.name}: ${type} is not a type@apiVersion of Azure's published schemas (test/infra/azure-schema.ts)`,
    }));
}

const matches = (pattern: string, path: string): boolean =>
  new RegExp(`^${pattern.replace(/[.[\]]/g, '\\$&').replace(/\*/g, '[^.]+')}$`).test(path);

/** Literal string and number leaves of a resource body, with their property paths, in every branch. */
function leaves(n: Node, path: string, sts: readonly Statement[], out: { path: string; node: Node }[]): void {
  const join = (k: string): string => (path === '' ? k : `${path}.${k}`);
  if (n.k === 'obj') for (const p of n.props) leaves(p.value, join(p.key), sts, out);
  else if (n.k === 'arr') for (const i of n.items) leaves(i, `${path}[]`, sts, out);
  else if (n.k === 'if') leaves(n.body, path, sts, out);
  else if (n.k === 'for') leaves(n.body, path, sts, out);
  else if (n.k === 'tern')
    [n.t, n.f].forEach((b) => {
      leaves(b, path, sts, out);
    });
  else if (n.k === 'call' && n.fn === 'union')
    n.args.forEach((a) => {
      leaves(a, path, sts, out);
    });
  else if (n.k === 'id') {
    const st = sts.find((s) => s.name === n.name && (s.kind === 'var' || s.kind === 'param'));
    if (st?.kind === 'var' && st.value !== undefined) leaves(st.value, path, sts, out);
    if (st?.kind === 'param') {
      const allowed = decorator(st, 'allowed')?.[0];
      for (const a of allowed?.k === 'arr' ? allowed.items : []) {
        out.push({ path, node: a });
      }
      if (st.value !== undefined && (st.value.k === 'str' || st.value.k === 'num'))
        out.push({ path, node: st.value });
    }
  } else if (n.k === 'str' || n.k === 'num') out.push({ path, node: n });
}

const literal = (n: Node): string | number | undefined =>
  n.k === 'num'
    ? n.v
    : n.k === 'str' && n.parts.every((p) => typeof p === 'string')
      ? n.parts.join('')
      : undefined;

/**
 * Every literal value of a property the schema types as an enum is one of its values, in every
 * branch of every condition; a literal property the table does not know (neither enum nor
 * free-form) is reported, so a new enum-like property cannot go unchecked. Values that come from
 * parameters and JSON files are checked once expanded (checkExpandedValues).
 */
export function checkEnums(files: Files): Problem[] {
  const problems: Problem[] = [];
  for (const file of bicepFiles(files)) {
    const sts = parseBicep(files[file]!);
    for (const { st, type } of resourceTypes({ [file]: files[file]! })) {
      const schema = SCHEMAS[type];
      if (schema === undefined || st.existing || st.value === undefined) continue;
      const out: { path: string; node: Node }[] = [];
      leaves(st.value, '', sts, out);
      for (const { path, node } of out) {
        const v = literal(node);
        const allowed = schema.enums[path];
        if (allowed !== undefined) {
          if (v === undefined || !allowed.includes(v)) {
            problems.push({
              check: 'enum',
              message: `${file} ${st.name}: ${path} = ${JSON.stringify(v ?? '(interpolated)')}; ${type} allows ${allowed.join(', ')}`,
            });
          }
        } else if (
          v !== undefined &&
          typeof v === 'string' &&
          !schema.freeForm.some((p) => matches(p, path))
        ) {
          problems.push({
            check: 'enum',
            message: `${file} ${st.name}: ${path} is in neither the enum nor the free-form list of ${type}`,
          });
        }
      }
    }
  }
  return problems;
}

function walkValue(v: Value, path: string, visit: (path: string, v: Value) => void): void {
  if (Array.isArray(v))
    v.forEach((x) => {
      walkValue(x, `${path}[]`, visit);
    });
  else if (
    v !== null &&
    typeof v === 'object' &&
    !(v instanceof Sym) &&
    !(v instanceof Ref) &&
    !('module' in v)
  ) {
    for (const [k, x] of Object.entries(v))
      if (!k.startsWith('<')) walkValue(x, path === '' ? k : `${path}.${k}`, visit);
  } else visit(path, v);
}

const withinBound = (b: Bound, v: number): boolean =>
  (b.min === undefined || v >= b.min) &&
  (b.max === undefined || v <= b.max) &&
  (b.allowed?.includes(v) ?? true) &&
  !(b.except?.includes(v) ?? false);

/** Enum values and platform bounds as ARM receives them (parameters, JSON layouts and loops resolved). */
export function checkExpandedValues(files: Files, scenario: Readonly<Record<string, Value>>): Problem[] {
  const problems: Problem[] = [];
  for (const i of allInstances(expand(files, scenario)).filter((x) => x.active && !x.st.existing)) {
    const schema = SCHEMAS[`${i.type}@${i.apiVersion}`];
    if (schema === undefined || i.body === undefined) continue;
    walkValue(evaluate(i.body, i.scope, files), '', (path, v) => {
      const allowed = schema.enums[path];
      const bound = PLATFORM_BOUNDS.find((b) => b.type === i.type && b.path === path);
      if (bound !== undefined && typeof v === 'number' && !withinBound(bound, v)) {
        problems.push({
          check: 'bounds',
          message: `${i.file} ${i.symbol}: ${path} = ${v}, outside the platform's bounds`,
        });
      }
      if (allowed !== undefined && (typeof v === 'string' || typeof v === 'number') && !allowed.includes(v)) {
        problems.push({
          check: 'enum',
          message: `${i.file} ${i.symbol}: ${path} = ${JSON.stringify(v)}; allowed: ${allowed.join(', ')}`,
        });
      }
    });
  }
  return problems;
}

const num = (n: Node | undefined): number | undefined =>
  n?.k === 'num' ? n.v : n?.k === 'un' && n.arg.k === 'num' ? -n.arg.v : undefined;

/**
 * Parameters that reach a platform-bounded property carry at least the platform's bounds
 * (@minValue/@maxValue or @allowed), and their defaults respect them — in the module and in
 * every template that passes the value down.
 */
export function checkPlatformBounds(files: Files): Problem[] {
  const problems: Problem[] = [];
  const all = bicepFiles(files).map((file) => ({ file, sts: parseBicep(files[file]!) }));
  const checkParam = (
    file: string,
    name: string,
    b: (typeof PLATFORM_BOUNDS)[number],
    seen: number,
  ): void => {
    const sts = all.find((x) => x.file === file)!.sts;
    const p = sts.find((s) => s.kind === 'param' && s.name === name);
    if (p === undefined || seen > 5) return;
    const where = `${file} param ${name} (${b.path})`;
    const allowed = decorator(p, 'allowed')?.[0];
    const values = allowed?.k === 'arr' ? allowed.items.map(num) : undefined;
    const [min, max] = [num(decorator(p, 'minValue')?.[0]), num(decorator(p, 'maxValue')?.[0])];
    const def = num(p.value);
    const ok = (v: number | undefined): boolean => v !== undefined && withinBound(b, v);
    if (values !== undefined) {
      if (!values.every(ok))
        problems.push({
          check: 'bounds',
          message: `${where}: @allowed ${values.join(', ')} outside the platform's`,
        });
    } else if (!ok(min) || !ok(max)) {
      problems.push({
        check: 'bounds',
        message: `${where}: @minValue(${min}) @maxValue(${max}); the platform takes ${b.min}..${b.max}`,
      });
    }
    if (p.value !== undefined && !ok(def))
      problems.push({ check: 'bounds', message: `${where}: default ${def} outside the platform's bounds` });
    // Callers: `module x '<this file>' = { params: { name: <param of the caller> } }`.
    for (const caller of all) {
      for (const m of caller.sts.filter(
        (s) => s.kind === 'module' && `${caller.file.replace(/[^/]+$/, '')}${s.type}` === file,
      )) {
        const body = m.value?.k === 'if' ? m.value.body : m.value;
        const params = body?.k === 'obj' ? body.props.find((x) => x.key === 'params')?.value : undefined;
        const passed = params?.k === 'obj' ? params.props.find((x) => x.key === name)?.value : undefined;
        if (passed?.k === 'id') checkParam(caller.file, passed.name, b, seen + 1);
        else if (passed !== undefined && !ok(num(passed)))
          problems.push({
            check: 'bounds',
            message: `${caller.file}: ${name} passed as a value the platform refuses`,
          });
      }
    }
  };
  for (const b of PLATFORM_BOUNDS.filter((x) => x.expandedOnly !== true)) {
    for (const { file, st } of resourceTypes(files).filter((r) => r.type.startsWith(`${b.type}@`))) {
      // Unset: the platform's default, which is within its own bounds.
      const n = st.existing ? undefined : propertyAt(st.value, b.path);
      if (n?.k === 'id') checkParam(file, n.name, b, 0);
      else if (n !== undefined && !withinBound(b, num(n) ?? Number.NaN)) {
        problems.push({
          check: 'bounds',
          message: `${file} ${st.name}: ${b.path} outside the platform's bounds`,
        });
      }
    }
  }
  return problems;
}

/** The app settings object of the Function App as deployed in a scenario. */
export function appSettings(d: Deployment, files: Files): Record<string, Value> {
  const cfg = allInstances(d).find(
    (i) => i.type === 'Microsoft.Web/sites/config' && i.name === 'appsettings',
  );
  if (cfg?.body === undefined) return {};
  const v = evaluate(cfg.body, cfg.scope, files) as { properties?: Record<string, Value> };
  return Object.fromEntries(Object.entries(v.properties ?? {}).filter(([k]) => !k.startsWith('<')));
}

export function siteOf(d: Deployment): Instance | undefined {
  return allInstances(d).find((i) => i.type === 'Microsoft.Web/sites' && i.active);
}

/**
 * Identity-based host storage as the Functions host reads it
 * (https://learn.microsoft.com/azure/azure-functions/functions-reference#common-properties-for-identity-based-connections):
 * only documented suffixes; an account name or service URI; `credential: managedidentity`
 * with a user-assigned identity's clientId.
 */
const CONNECTION_SUFFIXES = [
  'accountName',
  'blobServiceUri',
  'queueServiceUri',
  'tableServiceUri',
  'serviceUri',
].concat(['credential', 'clientId', 'managedIdentityResourceId', 'tenantId', 'clientSecret', 'certificate']);

export function checkHostStorage(files: Files, scenario: Readonly<Record<string, Value>>): Problem[] {
  const s = appSettings(expand(files, scenario), files);
  const problems: Problem[] = [];
  const conn = Object.keys(s).filter((k) => k.startsWith('AzureWebJobsStorage__'));
  for (const k of conn) {
    const suffix = k.slice('AzureWebJobsStorage__'.length);
    if (!CONNECTION_SUFFIXES.includes(suffix))
      problems.push({ check: 'host-storage', message: `${k}: not a property the Functions host reads` });
  }
  if (!('AzureWebJobsStorage__accountName' in s || 'AzureWebJobsStorage__blobServiceUri' in s))
    problems.push({ check: 'host-storage', message: 'AzureWebJobsStorage: no account name or service URI' });
  if (
    ('AzureWebJobsStorage__clientId' in s || 'AzureWebJobsStorage__managedIdentityResourceId' in s) &&
    s.AzureWebJobsStorage__credential !== 'managedidentity'
  )
    problems.push({
      check: 'host-storage',
      message: "AzureWebJobsStorage__credential must be 'managedidentity' with a user-assigned identity",
    });
  return problems;
}

export { render };

/**
 * A first `azd up` with default parameters must not create a role definition: the assignment
 * made in the same deployment would fail with RoleDefinitionDoesNotExist while it replicates.
 */
export function checkFirstDeployment(files: Files): Problem[] {
  return allInstances(expand(files, SCENARIOS.defaults!))
    .filter((i) => i.type === 'Microsoft.Authorization/roleDefinitions' && i.active)
    .map((i) => ({
      check: 'first-deployment',
      message: `${i.file} ${i.symbol}: a role definition in the default deployment`,
    }));
}

/**
 * TLS client certificates are asked for only when REST renewal over mTLS is on, and never
 * required (Windows' SCEP client and MDM SCEP clients send none).
 */
export function checkClientCertificates(files: Files, scenario: Readonly<Record<string, Value>>): Problem[] {
  const d = expand(files, scenario);
  const site = siteOf(d);
  if (site?.body === undefined) return [{ check: 'client-certificates', message: 'no Function App' }];
  const props = (evaluate(site.body, site.scope, files) as { properties: Record<string, Value> }).properties;
  const mtls = d.scope.lookup('restApiEnabled') === true && d.scope.lookup('restApiAllowRenewals') === true;
  const problems: Problem[] = [];
  if (props.clientCertEnabled !== mtls)
    problems.push({
      check: 'client-certificates',
      message: `clientCertEnabled = ${render(props.clientCertEnabled ?? null)} with REST mTLS renewal ${mtls ? 'on' : 'off'}`,
    });
  if (props.clientCertMode === 'Required')
    problems.push({ check: 'client-certificates', message: "clientCertMode 'Required'" });
  return problems;
}

/** Resource names as deployed match the schema's name pattern and length. */
export function checkNames(files: Files, scenario: Readonly<Record<string, Value>>): Problem[] {
  return allInstances(expand(files, scenario))
    .filter((i) => i.active && !i.st.existing)
    .flatMap((i) => {
      const rule = SCHEMAS[`${i.type}@${i.apiVersion}`]?.name;
      if (rule === undefined || (typeof i.name === 'string' && rule.test(i.name))) return [];
      return [
        {
          check: 'names',
          message: `${i.file} ${i.symbol}: name ${render(i.name)} does not match ${String(rule)}`,
        },
      ];
    });
}
