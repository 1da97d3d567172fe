import { describe, expect, it } from 'vitest';
import type { Registration } from '../../scripts/local/functions-core.js';
import { startQueueTriggers } from '../../scripts/local/queues.js';

/** Which queue triggers the local host polls, and what it says about those it cannot. */

const trigger = (connection?: string): Registration => ({
  metadata: {
    name: 'intuneNotifications',
    bindings: {
      in: {
        type: 'queueTrigger',
        direction: 'in',
        queueName: '%AppConfig__IntuneValidation__NotificationQueueName%',
        ...(connection ? { connection } : {}),
      },
    },
  },
  handler: () => undefined,
});

async function start(env: Record<string, string>, registration = trigger()): Promise<string[]> {
  const errors: string[] = [];
  const stop = await startQueueTriggers(
    [registration],
    { env, maxDequeueCount: 5, visibilityTimeoutSeconds: 0, onError: (m) => errors.push(m) },
    () => Promise.resolve(),
  );
  await stop();
  return errors;
}

describe('local queue triggers', () => {
  it('no storage configured (Intune validation off): not polled, and nothing printed', async () => {
    expect(await start({})).toEqual([]);
  });

  it('a connection setting that is not a storage connection string is named', async () => {
    const errors = await start({
      AzureWebJobsStorage: 'not a connection string',
      AppConfig__IntuneValidation__NotificationQueueName: 'intune-notifications',
    });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/intuneNotifications: AzureWebJobsStorage is not a storage connection string/);
  });

  it('a queue name setting that is not set is named', async () => {
    const errors = await start({ QueueStorage: 'UseDevelopmentStorage=true' }, trigger('QueueStorage'));
    expect(errors).toEqual([
      'queue trigger intuneNotifications: queue name %AppConfig__IntuneValidation__NotificationQueueName% not set; not polling',
    ]);
  });
});
