/**
 * Reading Bicep without the Bicep compiler (not available on these machines): a small scanner
 * tells comments and strings apart, and a few parsers find parameters, top-level statements and
 * property expressions. Enough for test/unit/infra-sync.test.ts; test/helpers/bicep-parse.ts is the parser.
 */

/** Blank out comments (and, with blankStrings, string contents), keeping offsets and newlines. */
export function scanBicep(text: string, blankStrings = false): string {
  const blank = (s: string): string => s.replace(/[^\n]/g, ' ');
  let out = '';
  let i = 0;
  while (i < text.length) {
    const rest = text.slice(i);
    const m =
      /^\/\/[^\n]*/.exec(rest) ??
      /^\/\*[\s\S]*?\*\//.exec(rest) ??
      /^'''[\s\S]*?'''/.exec(rest) ??
      /^'(?:\\.|[^'\\])*'/.exec(rest);
    if (m === null) {
      out += text[i] ?? '';
      i += 1;
      continue;
    }
    const tok = m[0];
    out += !tok.startsWith("'") ? blank(tok) : blankStrings ? `'${blank(tok.slice(1, -1))}'` : tok;
    i += tok.length;
  }
  return out;
}

/** The first unbalanced or mismatched bracket, or undefined when {}, [] and () pair up. */
export function unbalanced(codeOnly: string): string | undefined {
  const opener: Record<string, string> = { '}': '{', ']': '[', ')': '(' };
  const stack: { ch: string; line: number }[] = [];
  let line = 1;
  for (const ch of codeOnly) {
    if (ch === '\n') line += 1;
    else if ('{[('.includes(ch)) stack.push({ ch, line });
    else if (ch in opener && stack.pop()?.ch !== opener[ch]) return `line ${line}: unexpected "${ch}"`;
  }
  const open = stack.pop();
  return open === undefined ? undefined : `line ${open.line}: "${open.ch}" is never closed`;
}

export interface Param {
  readonly name: string;
  /** Text after `=`, e.g. `'RSA-HSM'` or `resourceGroup().location`; undefined: no default. */
  readonly defaultValue: string | undefined;
  readonly decorators: string;
}

/** `param` declarations with the decorators written above each. */
export function bicepParams(codeOnly: string): Param[] {
  const params: Param[] = [];
  let decorators = '';
  let depth = 0;
  for (const line of codeOnly.split('\n')) {
    const t = line.trim();
    if (depth > 0 || t.startsWith('@')) {
      decorators += `${t}\n`;
      depth += (t.match(/[({[]/g) ?? []).length - (t.match(/[)}\]]/g) ?? []).length;
      continue;
    }
    const m = /^param\s+(\w+)\s[^=]*(?:=\s*(.*))?$/.exec(t);
    if (m !== null) params.push({ name: m[1]!, defaultValue: m[2]?.trim(), decorators });
    if (t !== '') decorators = '';
  }
  return params;
}
