import { z } from 'zod';

/**
 * Helpers for reading App Settings. Azure passes every setting as a string; on Linux the
 * `:` of a .NET-style key is written `__` (SCEPman: `AppConfig:StaticValidation:Enabled` is
 * `AppConfig__StaticValidation__Enabled`). Every section schema is a zod object keyed by the
 * full setting name, so an error names the setting the operator has to fix.
 */
export type Env = Readonly<Record<string, string | undefined>>;

const trimmed = z.string().transform((s) => s.trim());

export const bool = (fallback: boolean) =>
  z
    .string()
    .optional()
    .transform((s, ctx) => {
      const v = s?.trim().toLowerCase();
      if (v === undefined || v === '') return fallback;
      if (['true', '1', 'yes'].includes(v)) return true;
      if (['false', '0', 'no'].includes(v)) return false;
      ctx.addIssue({ code: 'custom', message: `expected true or false, got "${s ?? ''}"` });
      return z.NEVER;
    });

export const int = <F extends number | undefined>(fallback: F, min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((s, ctx) => {
      const v = s?.trim();
      if (v === undefined || v === '') return fallback;
      if (!/^-?\d+$/.test(v) || Number(v) < min || Number(v) > max) {
        ctx.addIssue({
          code: 'custom',
          message: `expected a whole number from ${min} to ${max}, got "${v}"`,
        });
        return z.NEVER;
      }
      return Number(v);
    });

export const optionalString = z
  .string()
  .optional()
  .transform((s) => (s === undefined || s.trim() === '' ? undefined : s.trim()));

export const requiredString = trimmed.pipe(z.string().min(1, 'must not be empty'));

export const optionalUrl = optionalString.refine(
  (s) => s === undefined || URL.canParse(s),
  'expected an absolute URL such as https://example.net',
);

/** Comma/semicolon separated list; empty entries dropped. */
export const list = (fallback: readonly string[]) =>
  z
    .string()
    .optional()
    .transform((s) => {
      if (s === undefined || s.trim() === '') return [...fallback];
      return s
        .split(/[,;]/)
        .map((x) => x.trim())
        .filter((x) => x !== '');
    });

/** One line per problem: `AppConfig__X__Y: message`. */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((i) => `${i.path.map(String).join('.') || '(settings)'}: ${i.message}`);
}

export type SectionResult<T> = { ok: true; value: T } | { ok: false; problems: string[] };
export type Section<T> = (env: Env) => SectionResult<T>;

/**
 * Build a section from a zod object over setting names and a mapping to the typed value.
 * `check` may add cross-field problems (e.g. "RequestPassword is required when Enabled").
 */
export function section<S extends z.ZodObject, T>(
  schema: S,
  map: (raw: z.output<S>) => T,
  check?: (raw: z.output<S>) => string[],
): Section<T> {
  return (env) => {
    const picked: Record<string, string | undefined> = {};
    for (const key of Object.keys(schema.shape)) picked[key] = env[key];
    const r = schema.safeParse(picked);
    if (r.success) {
      const problems = check ? check(r.data) : [];
      return problems.length > 0 ? { ok: false, problems } : { ok: true, value: map(r.data) };
    }
    // Still run the cross-field checks, with every invalid setting at its default, so that one
    // error message lists every problem at once.
    const problems = formatIssues(r.error.issues);
    const bad = new Set(r.error.issues.map((i) => String(i.path[0])));
    const fallback = schema.safeParse(
      Object.fromEntries(Object.entries(picked).map(([k, v]) => [k, bad.has(k) ? undefined : v])),
    );
    if (fallback.success && check)
      problems.push(...check(fallback.data).filter((p) => !problems.includes(p)));
    return { ok: false, problems };
  };
}
