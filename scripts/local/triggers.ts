import type { Service } from './backing.js';
import type { Invoke } from './function-table.js';
import { registrations } from './functions-core.js';
import { readHostJson } from './function-table.js';

/**
 * The local host's background triggers: queue triggers polled with host.json's
 * extensions.queues settings (maxDequeueCount default 5, visibilityTimeout) and timers. The
 * service returned stops the timers, then the queue pollers.
 */
export async function startBackgroundTriggers(
  env: Readonly<Record<string, string | undefined>>,
  invoke: Invoke,
  onError: (message: string) => void,
): Promise<Service> {
  const hostJson = readHostJson();
  const { startQueueTriggers, startTimers } = await import('./queues.js');
  const stopQueues = await startQueueTriggers(
    registrations,
    {
      env,
      maxDequeueCount: hostJson.extensions?.queues?.maxDequeueCount ?? 5,
      visibilityTimeoutSeconds: seconds(hostJson.extensions?.queues?.visibilityTimeout) ?? 0,
      onError,
    },
    (payload, triggerMetadata, functionName) => invoke(functionName, [payload], triggerMetadata),
  );
  const stopTimers = startTimers(registrations, (name) => invoke(name, [{ isPastDue: false }]), onError);
  return {
    close: async () => {
      stopTimers();
      await stopQueues();
    },
  };
}

/** host.json TimeSpan "hh:mm:ss" → seconds. */
function seconds(span: string | undefined): number | undefined {
  const m = /^(\d+):(\d{2}):(\d{2})$/.exec(span ?? '');
  return m ? Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) : undefined;
}
