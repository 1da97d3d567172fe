/**
 * A parser for the subset of Bicep that infra/ uses (the Bicep compiler is not available on
 * these machines): parameters with decorators, variables, resources (conditions, loops, nested
 * and `existing` resources), modules and outputs, and the expression grammar of
 * https://learn.microsoft.com/azure/azure-resource-manager/bicep/operators. Unknown syntax
 * throws, so a template the parser does not understand fails the tests instead of passing them.
 */

export type Node =
  | { readonly k: 'str'; readonly parts: readonly (string | Node)[] }
  | { readonly k: 'num'; readonly v: number }
  | { readonly k: 'bool'; readonly v: boolean }
  | { readonly k: 'null' }
  | { readonly k: 'id'; readonly name: string }
  | { readonly k: 'obj'; readonly props: readonly { key: string; keyNode?: Node; value: Node }[] }
  | { readonly k: 'arr'; readonly items: readonly Node[] }
  | {
      readonly k: 'for';
      readonly item: string;
      readonly index?: string;
      readonly source: Node;
      readonly body: Node;
    }
  | { readonly k: 'if'; readonly cond: Node; readonly body: Node }
  | { readonly k: 'call'; readonly fn: string; readonly args: readonly Node[] }
  | { readonly k: 'member'; readonly obj: Node; readonly name: string }
  | { readonly k: 'index'; readonly obj: Node; readonly index: Node }
  | { readonly k: 'un'; readonly op: string; readonly arg: Node }
  | { readonly k: 'bin'; readonly op: string; readonly l: Node; readonly r: Node }
  | { readonly k: 'tern'; readonly c: Node; readonly t: Node; readonly f: Node };

export interface Statement {
  readonly kind: 'param' | 'var' | 'resource' | 'module' | 'output' | 'targetScope';
  readonly name: string;
  /** param/output: the type; resource: `type@apiVersion`; module: the path. */
  readonly type: string;
  readonly existing: boolean;
  readonly decorators: readonly Node[];
  /** Default value, value or body (a `for` / `if` / object node). */
  readonly value: Node | undefined;
  /** For a resource declared inside another: that resource's symbol. */
  readonly parent?: string;
  readonly line: number;
}

interface Token {
  readonly t: 'str' | 'num' | 'id' | 'p' | 'nl';
  readonly v: string;
  readonly parts?: readonly (string | Node)[];
  readonly line: number;
}

const PUNCT = [
  '==',
  '!=',
  '=~',
  '!~',
  '&&',
  '||',
  '<=',
  '>=',
  '??',
  '::',
  '.?',
  ...'{}[](),:.?!=<>+-*/%@'.split(''),
];

function readString(src: string, at: number): { end: number; parts: (string | Node)[] } {
  const parts: (string | Node)[] = [];
  let lit = '';
  let i = at + 1;
  while (i < src.length && src[i] !== "'") {
    if (src[i] === '\\') {
      const esc = src[i + 1] ?? '';
      lit += ({ n: '\n', r: '\r', t: '\t' } as Record<string, string>)[esc] ?? esc;
      i += 2;
    } else if (src.startsWith('${', i)) {
      let depth = 1;
      let j = i + 2;
      while (j < src.length && depth > 0) {
        if (src[j] === "'") j = readString(src, j).end;
        else {
          depth += src[j] === '{' ? 1 : src[j] === '}' ? -1 : 0;
          j += 1;
        }
      }
      parts.push(lit, parseExpression(src.slice(i + 2, j - 1)));
      lit = '';
      i = j;
    } else lit += src[i++]!;
  }
  if (i >= src.length) throw new Error(`unterminated string at offset ${at}`);
  parts.push(lit);
  return { end: i + 1, parts: parts.filter((p) => p !== '') };
}

export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let line = 1;
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    const rest = src.slice(i, i + 3);
    if (c === '\n') {
      out.push({ t: 'nl', v: '\n', line });
      line += 1;
      i += 1;
    } else if (/\s/.test(c)) i += 1;
    else if (rest.startsWith('//')) i = src.indexOf('\n', i) < 0 ? src.length : src.indexOf('\n', i);
    else if (rest.startsWith('/*') || rest === "'''") {
      const close = rest === "'''" ? "'''" : '*/';
      const end = src.indexOf(close, i + 3);
      if (end < 0) throw new Error(`line ${line}: unterminated ${rest}`);
      const text = src.slice(i + 3, end);
      if (rest === "'''") out.push({ t: 'str', v: text, parts: [text], line });
      line += (src.slice(i, end).match(/\n/g) ?? []).length;
      i = end + close.length;
    } else if (c === "'") {
      const { end, parts } = readString(src, i);
      out.push({ t: 'str', v: src.slice(i, end), parts, line });
      line += (src.slice(i, end).match(/\n/g) ?? []).length;
      i = end;
    } else if (/[0-9]/.test(c)) {
      const m = /^[0-9]+/.exec(src.slice(i))![0];
      out.push({ t: 'num', v: m, line });
      i += m.length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i))![0];
      out.push({ t: 'id', v: m, line });
      i += m.length;
    } else {
      const p = PUNCT.find((x) => src.startsWith(x, i));
      if (p === undefined) throw new Error(`line ${line}: unexpected character ${JSON.stringify(c)}`);
      out.push({ t: 'p', v: p, line });
      i += p.length;
    }
  }
  return out;
}

const BINARY: readonly (readonly string[])[] = [
  ['??'],
  ['||'],
  ['&&'],
  ['==', '!=', '=~', '!~'],
  ['<', '>', '<=', '>='],
  ['+', '-'],
  ['*', '/', '%'],
];

class Parser {
  private i = 0;
  /** Newlines are insignificant inside parentheses, significant in objects and arrays. */
  private readonly nlSkip: boolean[] = [false];
  constructor(private readonly toks: readonly Token[]) {}

  private skipNl(force = false): void {
    while ((force || this.nlSkip.at(-1) === true) && this.toks[this.i]?.t === 'nl') this.i += 1;
  }
  peek(): Token | undefined {
    this.skipNl();
    return this.toks[this.i];
  }
  private is(v: string): boolean {
    const t = this.peek();
    return t !== undefined && (t.t === 'p' || t.t === 'id') && t.v === v;
  }
  private next(): Token {
    const t = this.peek();
    if (t === undefined) throw new Error('unexpected end of template');
    this.i += 1;
    return t;
  }
  private expect(v: string): Token {
    const t = this.next();
    if (t.v !== v) throw new Error(`line ${t.line}: expected "${v}", found "${t.v}"`);
    return t;
  }
  atEnd(): boolean {
    this.skipNl(true);
    return this.i >= this.toks.length;
  }
  line(): number {
    return this.peek()?.line ?? 0;
  }

  expr(): Node {
    const c = this.binary(0);
    if (!this.is('?')) return c;
    this.next();
    this.nlSkip.push(true);
    const t = this.expr();
    this.expect(':');
    this.nlSkip.pop();
    return { k: 'tern', c, t, f: this.expr() };
  }

  private binary(level: number): Node {
    if (level >= BINARY.length) return this.unary();
    let l = this.binary(level + 1);
    while (this.peek()?.t === 'p' && BINARY[level]!.includes(this.peek()!.v)) {
      const op = this.next().v;
      l = { k: 'bin', op, l, r: this.binary(level + 1) };
    }
    return l;
  }

  private unary(): Node {
    if (this.is('!') || this.is('-')) return { k: 'un', op: this.next().v, arg: this.unary() };
    let n = this.primary();
    for (;;) {
      if (this.is('.') || this.is('.?') || this.is('::')) {
        this.next();
        n = { k: 'member', obj: n, name: this.next().v };
      } else if (this.is('[')) {
        this.next();
        this.nlSkip.push(true);
        n = { k: 'index', obj: n, index: this.expr() };
        this.expect(']');
        this.nlSkip.pop();
      } else if (this.is('(') && (n.k === 'id' || n.k === 'member')) {
        const fn = n.k === 'id' ? n.name : `${calleeName(n.obj)}.${n.name}`;
        n = { k: 'call', fn, args: this.args() };
      } else return n;
    }
  }

  private args(): Node[] {
    this.expect('(');
    this.nlSkip.push(true);
    const args: Node[] = [];
    while (!this.is(')')) {
      args.push(this.expr());
      if (this.is(',')) this.next();
    }
    this.nlSkip.pop();
    this.expect(')');
    return args;
  }

  primary(): Node {
    const t = this.next();
    if (t.t === 'str') return { k: 'str', parts: t.parts ?? [] };
    if (t.t === 'num') return { k: 'num', v: Number(t.v) };
    if (t.t === 'id' && (t.v === 'true' || t.v === 'false')) return { k: 'bool', v: t.v === 'true' };
    if (t.t === 'id' && t.v === 'null') return { k: 'null' };
    if (t.t === 'id') return { k: 'id', name: t.v };
    if (t.v === '(') {
      this.nlSkip.push(true);
      const e = this.expr();
      this.nlSkip.pop();
      this.expect(')');
      return e;
    }
    if (t.v === '{') return this.object();
    if (t.v === '[') return this.array();
    throw new Error(`line ${t.line}: unexpected "${t.v}"`);
  }

  /** `if (cond) body` or a plain value: the body of a resource, module or loop. */
  body(): Node {
    if (!this.is('if')) return this.expr();
    this.next();
    this.expect('(');
    this.nlSkip.push(true);
    const cond = this.expr();
    this.nlSkip.pop();
    this.expect(')');
    return { k: 'if', cond, body: this.expr() };
  }

  private object(): Node {
    this.nlSkip.push(false);
    const props: { key: string; keyNode?: Node; value: Node }[] = [];
    for (;;) {
      this.skipNl(true);
      if (this.is('}')) break;
      if (this.is(',')) {
        this.next();
        continue;
      }
      if (this.is('@')) {
        this.decorator();
        continue;
      }
      if (this.is('resource') && this.toks[this.i + 1]?.t === 'id') {
        // statement() replaces this.nested while it runs: push to the list current afterwards.
        const st = this.statement();
        this.nested.push(st);
        continue;
      }
      const k = this.next();
      const parts = k.parts ?? [];
      const key = k.t === 'str' ? parts.map((p) => (typeof p === 'string' ? p : '${}')).join('') : k.v;
      this.expect(':');
      const value = this.expr();
      props.push(
        parts.some((p) => typeof p !== 'string')
          ? { key, keyNode: { k: 'str', parts }, value }
          : { key, value },
      );
    }
    this.nlSkip.pop();
    this.expect('}');
    return { k: 'obj', props };
  }

  private array(): Node {
    this.nlSkip.push(false);
    this.skipNl(true);
    if (this.is('for')) {
      this.next();
      let item: string;
      let index: string | undefined;
      if (this.is('(')) {
        this.next();
        item = this.next().v;
        this.expect(',');
        index = this.next().v;
        this.expect(')');
      } else item = this.next().v;
      this.expect('in');
      const source = this.expr();
      this.expect(':');
      this.skipNl(true);
      const body = this.body();
      this.skipNl(true);
      this.nlSkip.pop();
      this.expect(']');
      return index === undefined ? { k: 'for', item, source, body } : { k: 'for', item, index, source, body };
    }
    const items: Node[] = [];
    for (;;) {
      this.skipNl(true);
      if (this.is(']')) break;
      if (this.is(',')) this.next();
      else items.push(this.expr());
    }
    this.nlSkip.pop();
    this.expect(']');
    return { k: 'arr', items };
  }

  private decorator(): Node {
    this.expect('@');
    const d = this.unary();
    this.skipNl(true);
    return d;
  }

  /** Resources declared inside the object being parsed (collected by `statement`). */
  nested: Statement[] = [];

  statement(parent?: string): Statement {
    const decorators: Node[] = [];
    while (this.is('@')) decorators.push(this.decorator());
    const line = this.line();
    const kw = this.next().v;
    if (kw === 'targetScope') {
      this.expect('=');
      return { kind: kw, name: kw, type: '', existing: false, decorators, value: this.expr(), line };
    }
    if (!['param', 'var', 'resource', 'module', 'output'].includes(kw)) {
      throw new Error(`line ${line}: unsupported statement "${kw}"`);
    }
    const kind = kw as Statement['kind'];
    const name = this.next().v;
    let type = '';
    let existing = false;
    if (kind === 'resource' || kind === 'module') {
      const t = this.next();
      type = (t.parts ?? []).filter((p) => typeof p === 'string').join('');
      existing = this.is('existing') && this.next().v === 'existing';
    } else {
      // A type (param/output, optional for var): tokens up to `=` or the end of the line.
      while (this.toks[this.i] !== undefined && this.toks[this.i]!.t !== 'nl' && !this.is('=')) {
        type += this.next().v;
      }
    }
    let value: Node | undefined;
    if (this.is('=')) {
      this.next();
      const outer = this.nested;
      this.nested = [];
      value = kind === 'resource' || kind === 'module' ? this.body() : this.expr();
      const inner = this.nested.map((s) => ({ ...s, parent: s.parent ?? name }));
      this.nested = [...outer, ...inner];
    }
    const st: Statement = { kind, name, type, existing, decorators, value, line };
    return parent === undefined ? st : { ...st, parent };
  }
}

function calleeName(n: Node): string {
  if (n.k === 'id') return n.name;
  if (n.k === 'member') return `${calleeName(n.obj)}.${n.name}`;
  throw new Error('unsupported callee');
}

export function parseExpression(src: string): Node {
  const p = new Parser(tokenize(src));
  const e = p.expr();
  if (!p.atEnd()) throw new Error(`unexpected "${p.peek()?.v ?? ''}" after expression`);
  return e;
}

/** Every statement of a .bicep file, resources declared inside other resources included. */
export function parseBicep(src: string): Statement[] {
  const p = new Parser(tokenize(src));
  const out: Statement[] = [];
  while (!p.atEnd()) {
    p.nested = [];
    out.push(p.statement());
    out.push(...p.nested);
    const t = p.peek();
    if (t !== undefined && t.t !== 'nl') throw new Error(`line ${t.line}: unexpected "${t.v}"`);
  }
  return out;
}

/** A decorator's arguments by name, e.g. `minValue` -> [40]. */
export function decorator(st: Statement, name: string): readonly Node[] | undefined {
  const d = st.decorators.find((n) => n.k === 'call' && n.fn === name);
  return d?.k === 'call' ? d.args : undefined;
}

/** The property at a dotted path of an object node (`properties.sku.name`), if written as a literal object. */
export function propertyAt(n: Node | undefined, path: string): Node | undefined {
  let cur = n;
  for (const key of path.split('.')) {
    if (cur?.k === 'if') cur = cur.body;
    cur = cur?.k === 'obj' ? cur.props.find((p) => p.key === key)?.value : undefined;
  }
  return cur;
}
