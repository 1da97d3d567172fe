import type { Registration } from './functions-core.js';

/**
 * Warmup triggers: the Functions host runs them once when it adds an instance, before the
 * instance receives traffic (learn.microsoft.com/azure/azure-functions/functions-bindings-warmup).
 * The local host is one instance that has just started; it runs them right after it starts
 * listening and does not hold requests back meanwhile, since what a warmup prepares is also
 * made on first use. Resolves when every warmup function has finished.
 */
export async function runWarmups(
  registrations: readonly Registration[],
  invoke: (functionName: string) => Promise<unknown>,
  onError: (message: string) => void,
): Promise<void> {
  const warmups = registrations.filter((r) =>
    Object.values(r.metadata.bindings).some((b) => b.type === 'warmupTrigger'),
  );
  await Promise.all(
    warmups.map((r) =>
      invoke(r.metadata.name).catch((e: unknown) => {
        onError(`warmup ${r.metadata.name}: ${e instanceof Error ? e.message : String(e)}`);
      }),
    ),
  );
}
