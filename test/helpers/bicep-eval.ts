import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { type Node, type Statement, parseBicep, propertyAt } from './bicep-parse.js';

/**
 * Evaluates a parsed Bicep deployment for one set of parameter values, the way ARM would
 * expand it: module parameters flow into modules, conditions and loops decide which resource
 * instances exist, and expressions resolve to values. What only Azure knows at deployment time
 * (resource ids, principal ids, guid(), uniqueString()) stays symbolic.
 */

/** A value only Azure knows; `refs` are the resources it was derived from. */
export class Sym {
  constructor(
    readonly text: string,
    readonly refs: readonly Ref[] = [],
  ) {}
}

/** A resource (or a property of one), e.g. `vault` or `identity.properties.principalId`. */
export class Ref {
  constructor(
    readonly target: Instance,
    readonly path: readonly string[] = [],
  ) {}
}

class ModuleRef {
  constructor(readonly module: Deployment) {}
}

export type Value =
  string | number | boolean | null | Sym | Ref | ModuleRef | Value[] | { [k: string]: Value };

export interface Instance {
  readonly file: string;
  readonly st: Statement;
  readonly symbol: string;
  /** Full resource type (nested types expanded) and API version. */
  readonly type: string;
  readonly apiVersion: string;
  readonly active: boolean;
  /** The resource body (object node). */
  readonly body: Node | undefined;
  readonly scope: Scope;
  readonly name: Value;
}

export type Files = Readonly<Record<string, string>>;

export interface Deployment {
  readonly file: string;
  readonly active: boolean;
  readonly instances: readonly Instance[];
  readonly modules: ReadonlyMap<string, Deployment>;
  readonly statements: readonly Statement[];
  readonly scope: Scope;
  output(name: string): Value;
}

export interface Scope {
  readonly file: string;
  lookup(name: string): Value;
  with(bindings: Readonly<Record<string, Value>>): Scope;
}

const render = (v: Value): string =>
  v instanceof Sym
    ? v.text
    : v instanceof Ref
      ? `<${v.target.type}:${render(v.target.name)}>${v.path.map((p) => `.${p}`).join('')}`
      : v instanceof ModuleRef
        ? `<module ${v.module.file}>`
        : typeof v === 'object' && v !== null
          ? JSON.stringify(v)
          : String(v);

const refsOf = (vs: readonly Value[]): Ref[] =>
  vs.flatMap((v) => (v instanceof Ref ? [v] : v instanceof Sym ? [...v.refs] : []));
/** A plain object value (not an array, not symbolic). */
const isObject = (v: Value | undefined): v is { [k: string]: Value } =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && !symbolic(v);
const symbolic = (v: Value | undefined): boolean =>
  v instanceof Sym || v instanceof Ref || v instanceof ModuleRef;
const sym = (text: string, from: readonly Value[] = []): Sym => new Sym(text, refsOf(from));

export function truthy(v: Value): boolean | undefined {
  return typeof v === 'boolean' ? v : symbolic(v) ? undefined : Boolean(v);
}

function isEmpty(v: Value): Value {
  if (symbolic(v)) return sym(`empty(${render(v)})`, [v]);
  if (v === null || v === '') return true;
  if (Array.isArray(v)) return v.length === 0;
  return typeof v === 'object' ? Object.keys(v).length === 0 : false;
}

function call(fn: string, args: Value[], scope: Scope, files: Files): Value {
  const [a, b] = args;
  const anySym = args.some(symbolic);
  switch (fn) {
    case 'empty':
      return isEmpty(a ?? null);
    case 'length':
      return typeof a === 'string' || Array.isArray(a) ? a.length : sym(`length(${render(a ?? null)})`, args);
    case 'contains':
      if (Array.isArray(a)) return a.includes(b ?? null);
      if (typeof a === 'string') return typeof b === 'string' ? a.includes(b) : sym('contains', args);
      return isObject(a) ? render(b ?? null) in a : sym('contains', args);
    case 'union': {
      if (args.every(Array.isArray)) return [...new Set(args.flat() as Value[])];
      const merged: Record<string, Value> = {};
      for (const x of args) Object.assign(merged, isObject(x) ? x : { [`<${render(x)}>`]: x });
      return merged;
    }
    case 'concat':
      return args.every(Array.isArray)
        ? args.flat()
        : anySym
          ? sym(args.map(render).join(''), args)
          : args.map(render).join('');
    case 'string':
      return anySym ? sym(render(a ?? null), args) : typeof a === 'string' ? a : JSON.stringify(a);
    case 'toLower':
      return typeof a === 'string' ? a.toLowerCase() : sym(`toLower(${render(a ?? null)})`, args);
    case 'take':
      return typeof a === 'string' && typeof b === 'number'
        ? a.slice(0, b)
        : sym(`take(${render(a ?? null)})`, args);
    case 'replace':
      return typeof a === 'string' && typeof b === 'string' && typeof args[2] === 'string'
        ? a.split(b).join(args[2])
        : sym(`replace(${render(a ?? null)})`, args);
    case 'subscriptionResourceId':
      return anySym
        ? sym(`/subscriptions/{subscription}/providers/${args.map(render).join('/')}`, args)
        : `/subscriptions/{subscription}/providers/${args.map(render).join('/')}`;
    case 'loadJsonContent':
      return JSON.parse(files[join(dirname(scope.file), render(a ?? null))] ?? 'null') as Value;
    case 'uniqueString':
      // ARM: a deterministic 13-character string of lower-case letters and digits. Modelled as
      // such (the characters differ from Azure's) so names built from it can be checked.
      return createHash('sha256').update(args.map(render).join('|')).digest('hex').slice(0, 13);
    case 'guid':
    case 'resourceGroup':
    case 'subscription':
    case 'tenant':
    case 'environment':
      return sym(`${fn}(${args.map(render).join(', ')})`, args);
    default:
      throw new Error(`${scope.file}: function ${fn}() is not modelled by test/helpers/bicep-eval.ts`);
  }
}

function member(obj: Value, name: string): Value {
  if (obj instanceof ModuleRef) return name === 'outputs' ? obj : obj.module.output(name);
  if (obj instanceof Ref) {
    const nested =
      obj.path.length === 0 ? obj.target.scope.lookup(`${obj.target.symbol}::${name}`) : undefined;
    return nested ?? new Ref(obj.target, [...obj.path, name]);
  }
  if (obj instanceof Sym) return sym(`${obj.text}.${name}`, [obj]);
  if (isObject(obj)) return obj[name] ?? null;
  throw new Error(`member ${name} of ${render(obj)}`);
}

function binary(op: string, l: Value, r: Value): Value {
  if (op === '&&')
    return l === false || r === false ? false : l === true && r === true ? true : sym('&&', [l, r]);
  if (op === '||')
    return l === true || r === true ? true : l === false && r === false ? false : sym('||', [l, r]);
  if (op === '??') return l ?? r;
  if (symbolic(l) || symbolic(r)) return sym(`${render(l)} ${op} ${render(r)}`, [l, r]);
  const [x, y] = [l as number, r as number];
  const ops: Record<string, () => Value> = {
    '==': () => JSON.stringify(l) === JSON.stringify(r),
    '!=': () => JSON.stringify(l) !== JSON.stringify(r),
    '=~': () => render(l).toLowerCase() === render(r).toLowerCase(),
    '!~': () => render(l).toLowerCase() !== render(r).toLowerCase(),
    '<': () => x < y,
    '>': () => x > y,
    '<=': () => x <= y,
    '>=': () => x >= y,
    '+': () => x + y,
    '-': () => x - y,
    '*': () => x * y,
    '/': () => Math.trunc(x / y),
    '%': () => x % y,
  };
  const f = ops[op];
  if (f === undefined) throw new Error(`operator ${op}`);
  return f();
}

export function evaluate(n: Node, scope: Scope, files: Files): Value {
  const ev = (m: Node): Value => evaluate(m, scope, files);
  switch (n.k) {
    case 'str': {
      const parts = n.parts.map((p) => (typeof p === 'string' ? p : ev(p)));
      return parts.some(symbolic) ? sym(parts.map(render).join(''), parts) : parts.map(render).join('');
    }
    case 'num':
    case 'bool':
      return n.v;
    case 'null':
      return null;
    case 'id':
      return scope.lookup(n.name);
    case 'obj':
      return Object.fromEntries(
        n.props.map((p) => [p.keyNode === undefined ? p.key : render(ev(p.keyNode)), ev(p.value)]),
      );
    case 'arr':
      return n.items.map(ev);
    case 'for': {
      const src = ev(n.source);
      if (!Array.isArray(src)) return sym(`for ${n.item}`, [src]);
      return src.flatMap((item, i) => {
        const inner = scope.with({ [n.item]: item, ...(n.index !== undefined ? { [n.index]: i } : {}) });
        if (n.body.k !== 'if') return [evaluate(n.body, inner, files)];
        return truthy(evaluate(n.body.cond, inner, files)) === true
          ? [evaluate(n.body.body, inner, files)]
          : [];
      });
    }
    case 'if':
      return truthy(ev(n.cond)) === true ? ev(n.body) : null;
    case 'call':
      return call(n.fn, n.args.map(ev), scope, files);
    case 'member':
      return member(ev(n.obj), n.name);
    case 'index': {
      const [o, i] = [ev(n.obj), ev(n.index)];
      if (Array.isArray(o) && typeof i === 'number') return o[i] ?? null;
      if (isObject(o) && typeof i === 'string') return o[i] ?? null;
      return sym(`${render(o)}[${render(i)}]`, [o, i]);
    }
    case 'un': {
      const v = ev(n.arg);
      if (symbolic(v)) return sym(`${n.op}${render(v)}`, [v]);
      return n.op === '!' ? !(v as boolean) : -(v as number);
    }
    case 'bin':
      return binary(n.op, ev(n.l), ev(n.r));
    case 'tern': {
      const c = truthy(ev(n.c));
      return c === undefined ? sym('?:', [ev(n.t), ev(n.f)]) : c ? ev(n.t) : ev(n.f);
    }
  }
}

/**
 * Expands `file` with the given parameter values (missing ones take their defaults), and its
 * modules with the values it passes them.
 */
export function deploy(
  files: Files,
  file: string,
  params: Readonly<Record<string, Value>>,
  active = true,
): Deployment {
  const text = files[file];
  if (text === undefined) throw new Error(`${file}: no such file`);
  const statements = parseBicep(text);
  const cache = new Map<string, Value>();
  const instances: Instance[] = [];
  const modules = new Map<string, Deployment>();
  const bySymbol = new Map(
    statements
      .filter((s) => s.kind !== 'output')
      .map((s) => [s.parent === undefined ? s.name : `${s.parent}::${s.name}`, s]),
  );

  const makeScope = (bindings: Readonly<Record<string, Value>>): Scope => ({
    file,
    with: (more) => makeScope({ ...bindings, ...more }),
    lookup(name): Value {
      if (name in bindings) return bindings[name]!;
      if (cache.has(name)) return cache.get(name)!;
      const st = bySymbol.get(name);
      if (st === undefined) {
        if (name.includes('::')) return undefined as unknown as Value;
        throw new Error(`${file}: unknown symbol ${name}`);
      }
      const v = resolve(st);
      // Resources and modules grow as the deployment is expanded; values are fixed.
      if (st.kind === 'param' || st.kind === 'var') cache.set(name, v);
      return v;
    },
  });
  const scope = makeScope({});

  function resolve(st: Statement): Value {
    if (st.kind === 'param') {
      if (st.name in params) return params[st.name]!;
      return st.value === undefined ? sym(`param ${st.name}`) : evaluate(st.value, scope, files);
    }
    if (st.kind === 'var') return evaluate(st.value!, scope, files);
    if (st.kind === 'module') return new ModuleRef(modules.get(st.name)!);
    const made = instances.filter((i) => i.st === st).map((i) => new Ref(i));
    return st.value?.k === 'for' ? made : (made[0] ?? null);
  }

  const typeOf = (st: Statement): [string, string] => {
    const [t, v] = st.type.split('@') as [string, string | undefined];
    if (st.parent === undefined) return [t, v ?? ''];
    const parent = statements.find((p) => p.name === st.parent && p.kind === 'resource')!;
    const [pt, pv] = typeOf(parent);
    return [`${pt}/${t}`, v ?? pv];
  };

  for (const st of statements) {
    if (st.kind === 'module') {
      const body = st.value;
      const cond = body?.k === 'if' ? truthy(evaluate(body.cond, scope, files)) === true : true;
      const obj = evaluate(propertyAt(body, 'params') ?? { k: 'obj', props: [] }, scope, files) as Record<
        string,
        Value
      >;
      modules.set(st.name, deploy(files, join(dirname(file), st.type), obj, active && cond));
    }
    if (st.kind !== 'resource') continue;
    const [type, apiVersion] = typeOf(st);
    const add = (inner: Scope, body: Node | undefined, on: boolean): void => {
      const b = body?.k === 'if' ? body.body : body;
      const cond = body?.k === 'if' ? truthy(evaluate(body.cond, inner, files)) === true : true;
      const nameNode = propertyAt(b, 'name');
      const name = nameNode === undefined ? null : evaluate(nameNode, inner, files);
      instances.push({
        file,
        st,
        symbol: st.name,
        type,
        apiVersion,
        active: on && cond,
        body: b,
        scope: inner,
        name,
      });
    };
    if (st.value?.k === 'for') {
      const loop = st.value;
      const src = evaluate(loop.source, scope, files);
      const items = Array.isArray(src) ? src : [sym(loop.item, [src])];
      items.forEach((item, i) => {
        const b = { [loop.item]: item, ...(loop.index !== undefined ? { [loop.index]: i } : {}) };
        add(scope.with(b), loop.body, active);
      });
    } else add(scope, st.value, active);
  }

  const deployment: Deployment = {
    file,
    active,
    instances,
    modules,
    statements,
    scope,
    output: (name) => {
      const st = statements.find((s) => s.kind === 'output' && s.name === name);
      if (st?.value === undefined) throw new Error(`${file}: no output ${name}`);
      return evaluate(st.value, scope, files);
    },
  };
  return deployment;
}

/** Every resource instance of a deployment and its modules. */
export function allInstances(d: Deployment): Instance[] {
  return [...d.instances, ...[...d.modules.values()].flatMap(allInstances)];
}

export { render };
