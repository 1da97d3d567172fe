import type { ManageDeps } from '../../lib/endpoints/manage.js';
import type { DocumentStore } from '../../lib/store/documents.js';
import { MemoryDocumentStore } from '../../lib/store/documents-memory.js';

/** Management deps over a fresh memory document store, with a clock the test can move. */
export function manageDeps(
  o: { docs?: DocumentStore; now?: Date; maxValidityDays?: number } = {},
): ManageDeps & {
  setNow(d: Date): void;
} {
  let now = o.now ?? new Date('2026-12-01T12:00:00Z');
  return {
    docs: o.docs ?? new MemoryDocumentStore(),
    clock: () => now,
    maxValidityDays: o.maxValidityDays ?? 730,
    builtIns: [],
    setNow: (d) => {
      now = d;
    },
  };
}

/** The problems listed by a refused management change (AppError BAD_REQUEST detail). */
export async function problemsOf(p: Promise<unknown>): Promise<string[]> {
  try {
    await p;
  } catch (e) {
    const detail = (e as { code?: string; detail?: { problems?: string[] } }).detail;
    if ((e as { code?: string }).code === 'BAD_REQUEST' && detail?.problems) return detail.problems;
    throw e;
  }
  throw new Error('expected the change to be refused');
}
