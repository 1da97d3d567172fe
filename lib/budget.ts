import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * One time budget per request: the deadline of the request being served, visible to every call
 * it makes (Key Vault calls shorten their own time boxes to it) without threading a signal
 * through every layer. Outside a request there is no budget.
 */
const deadlines = new AsyncLocalStorage<number>();

/** Runs `fn` within a budget of `ms`; with no budget (undefined) it runs `fn` as it is. */
export function withBudget<T>(
  ms: number | undefined,
  fn: () => Promise<T>,
  now: () => number = Date.now,
): Promise<T> {
  return ms === undefined ? fn() : deadlines.run(now() + ms, fn);
}

/** Milliseconds left of the current request's budget; undefined outside a request. */
export function remainingBudget(now: number): number | undefined {
  const deadline = deadlines.getStore();
  return deadline === undefined ? undefined : deadline - now;
}
