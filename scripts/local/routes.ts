/**
 * Route templates as the Functions host reads them: `{name}`, `{name?}`, `{name:int}`,
 * `{*rest}` (catch-all, may be empty), `{name:maxlength(0)?}` (only the empty path: how a
 * function binds the site root); matched case-insensitively after the route prefix.
 */
export interface CompiledRoute {
  match(path: string): Record<string, string> | undefined;
}

export function compileRoute(prefix: string, template: string): CompiledRoute {
  const full = [prefix, template].filter((s) => s !== '').join('/');
  const names: string[] = [];
  let pattern = '^';
  for (const segment of full.split('/')) {
    const m = /^\{(\*)?([A-Za-z_][A-Za-z0-9_]*)(?::([a-z]+)(?:\(([^)]*)\))?)?(\?)?\}$/.exec(segment);
    if (!m) {
      if (segment !== '') pattern += `/${escape(segment)}`;
      continue;
    }
    if (m[3] === 'maxlength' && m[4] === '0' && m[5]) continue;
    const name = m[2];
    if (name === undefined) throw new Error(`route segment ${segment} has no parameter name`);
    names.push(name);
    if (m[1]) pattern += '(?:/(.*))?';
    else if (m[5]) pattern += '(?:/([^/]+))?';
    else pattern += '/([^/]+)';
  }
  const re = new RegExp(`${pattern}/?$`, 'i');
  return {
    match(path) {
      const m = re.exec(path);
      if (!m) return undefined;
      const params: Record<string, string> = {};
      names.forEach((n, i) => {
        const v = m[i + 1];
        if (v !== undefined) params[n] = decodeOrKeep(v);
      });
      return params;
    },
  };
}

/** A malformed percent-escape (`%%`) is kept as sent rather than failing the request with a 500. */
function decodeOrKeep(v: string): string {
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
