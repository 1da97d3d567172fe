import type { DequeuedMessageItem, QueueClient } from '@azure/storage-queue';
import type { Registration } from './functions-core.js';

/**
 * Queue triggers as the Functions host runs them: poll, base64-decode (the host's default
 * message encoding), JSON-parse with a string fallback, pass dequeueCount in triggerMetadata,
 * delete on success, make the message visible again after `visibilityTimeoutSeconds` on
 * failure, and move it to `<queue>-poison` after `maxDequeueCount` deliveries (host.json
 * extensions.queues, defaults 5 and 0 s).
 */
export interface QueueTriggerOptions {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly maxDequeueCount: number;
  readonly visibilityTimeoutSeconds: number;
  readonly pollMs?: number;
  readonly onError: (message: string) => void;
}

type Invoke = (
  payload: unknown,
  triggerMetadata: Record<string, unknown>,
  functionName: string,
) => Promise<unknown>;

export async function startQueueTriggers(
  registrations: readonly Registration[],
  o: QueueTriggerOptions,
  invoke: Invoke,
): Promise<() => Promise<void>> {
  const { QueueClient } = await import('@azure/storage-queue');
  const stops: (() => Promise<void>)[] = [];
  for (const r of registrations) {
    const trigger = Object.values(r.metadata.bindings).find((b) => b.type === 'queueTrigger');
    if (!trigger) continue;
    const queueName = resolve(String(trigger.queueName), o.env);
    const setting = trigger.connection ?? 'AzureWebJobsStorage';
    const connection = typeof setting === 'string' ? o.env[setting] : undefined;
    // No storage configured (Intune validation off: no Azurite): nothing to poll, nothing to say.
    if (!connection || typeof setting !== 'string') continue;
    if (!queueName) {
      o.onError(
        `queue trigger ${r.metadata.name}: queue name ${String(trigger.queueName)} not set; not polling`,
      );
      continue;
    }
    let queue: QueueClient;
    let poison: QueueClient;
    try {
      // Any form the SDK reads: account key, QueueEndpoint=, UseDevelopmentStorage=true.
      queue = new QueueClient(connection, queueName);
      poison = new QueueClient(connection, `${queueName}-poison`);
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      o.onError(
        `queue trigger ${r.metadata.name}: ${setting} is not a storage connection string (${why}); not polling`,
      );
      continue;
    }
    await queue.createIfNotExists();
    await poison.createIfNotExists();
    stops.push(poll({ queue, poison, queueName, functionName: r.metadata.name }, o, invoke));
  }
  return async () => {
    await Promise.all(stops.map((s) => s()));
  };
}

/** One triggered function's queue and its poison queue. */
interface TriggerQueues {
  readonly queue: QueueClient;
  readonly poison: QueueClient;
  readonly queueName: string;
  readonly functionName: string;
}

/** Poll the queue until the returned stop callback is called; it resolves once the loop has ended. */
function poll(q: TriggerQueues, o: QueueTriggerOptions, invoke: Invoke): () => Promise<void> {
  let running = true;
  // Read through a function: the stop callback clears `running`, which narrowing cannot see.
  const isRunning = (): boolean => running;
  let wake: (() => void) | undefined;
  const loop = async (): Promise<void> => {
    while (running) {
      try {
        const got = await q.queue.receiveMessages({ numberOfMessages: 16, visibilityTimeout: 60 });
        for (const m of got.receivedMessageItems) await deliver(m, q, o, invoke);
        if (got.receivedMessageItems.length > 0) continue;
      } catch (e) {
        if (isRunning()) o.onError(`queue trigger ${q.functionName}: ${String(e)}`);
      }
      await new Promise<void>((res) => {
        const t = setTimeout(res, o.pollMs ?? 500);
        wake = () => {
          clearTimeout(t);
          res();
        };
      });
    }
  };
  const done = loop();
  return async () => {
    running = false;
    wake?.();
    await done;
  };
}

/** Run the function on one message: delete it on success, else retry it later or move it to poison. */
async function deliver(
  m: DequeuedMessageItem,
  q: TriggerQueues,
  o: QueueTriggerOptions,
  invoke: Invoke,
): Promise<void> {
  const text = Buffer.from(m.messageText, 'base64').toString('utf8');
  let payload: unknown = text;
  try {
    payload = JSON.parse(text);
  } catch {
    /* a plain string message */
  }
  try {
    await invoke(
      payload,
      {
        dequeueCount: m.dequeueCount,
        id: m.messageId,
        insertionTime: m.insertedOn,
        queueTrigger: text,
      },
      q.functionName,
    );
    await q.queue.deleteMessage(m.messageId, m.popReceipt);
  } catch (e) {
    if (m.dequeueCount >= o.maxDequeueCount) {
      await q.poison.sendMessage(m.messageText);
      await q.queue.deleteMessage(m.messageId, m.popReceipt);
      o.onError(
        `queue trigger ${q.functionName}: message ${m.messageId} moved to ${q.queueName}-poison after ${m.dequeueCount} attempts: ${String(e)}`,
      );
    } else {
      await q.queue.updateMessage(m.messageId, m.popReceipt, undefined, o.visibilityTimeoutSeconds);
    }
  }
}

// Timer triggers: an NCRONTAB "every N minutes" schedule runs every N minutes; any other every 5 minutes.
export function startTimers(
  registrations: readonly Registration[],
  invoke: (functionName: string) => Promise<unknown>,
  onError: (message: string) => void,
): () => void {
  const timers: NodeJS.Timeout[] = [];
  for (const r of registrations) {
    const trigger = Object.values(r.metadata.bindings).find((b) => b.type === 'timerTrigger');
    if (!trigger) continue;
    const m = /^0 \*\/(\d+) \* \* \* \*$/.exec(String(trigger.schedule));
    const minutes = m ? Number(m[1]) : 5;
    const t = setInterval(() => {
      invoke(r.metadata.name).catch((e: unknown) => {
        onError(`timer ${r.metadata.name}: ${String(e)}`);
      });
    }, minutes * 60_000);
    t.unref();
    timers.push(t);
  }
  return () => {
    timers.forEach(clearInterval);
  };
}

function resolve(value: string, env: Readonly<Record<string, string | undefined>>): string | undefined {
  const name = /^%(.+)%$/.exec(value)?.[1];
  return name === undefined ? value : env[name];
}
