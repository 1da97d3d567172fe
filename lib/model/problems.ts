import type { z } from 'zod';
import { AppError } from '../errors.js';

/** Every zod issue as `path: message`, the form management API problems list. */
export function zodProblems(error: z.ZodError, prefix = ''): string[] {
  return error.issues.map((i) => {
    const path = [prefix, ...i.path.map(String)].filter((s) => s !== '').join('.');
    return path === '' ? i.message : `${path}: ${i.message}`;
  });
}

/** A 400 that lists every problem found (`detail.problems`), never only the first. */
export function invalid(what: string, problems: readonly string[]): AppError {
  return new AppError('BAD_REQUEST', `the ${what} is invalid: ${problems.join('; ')}`, {
    detail: { problems: [...problems] },
  });
}
