/** How `npm run admin` prints the management API's answers for a terminal. */

export function problemText(status: number, body: unknown): string {
  const p = (body ?? {}) as {
    detail?: string;
    code?: string;
    errors?: { pointer?: string; detail: string }[];
  };
  const lines = [`error ${status} ${p.code ?? ''}: ${p.detail ?? ''}`];
  for (const e of p.errors ?? []) lines.push(`  ${e.pointer ?? ''} ${e.detail}`);
  return lines.join('\n');
}

/** A field for a terminal: strings as they are, everything else as JSON. */
const scalar = (x: unknown): string => (typeof x === 'string' ? x : JSON.stringify(x));

/** Lists as one line per item; single objects as `key: value` lines. */
export function humanText(body: unknown): string {
  if (body === undefined) return 'done';
  const b = body as { value?: Record<string, unknown>[] };
  if (Array.isArray(b.value)) {
    return b.value
      .map((x) =>
        ['name', 'id', 'serialNumber', 'subject', 'type', 'status', 'organization', 'enabled', 'notAfter']
          .filter((k) => x[k] !== undefined)
          .map((k) => `${k}=${scalar(x[k])}`)
          .join('  '),
      )
      .join('\n');
  }
  return Object.entries(body as Record<string, unknown>)
    .map(([k, x]) => `${k}: ${scalar(x)}`)
    .join('\n');
}
