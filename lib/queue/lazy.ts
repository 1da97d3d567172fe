import type { MessageQueue, ReceivedMessage } from './types.js';

/**
 * A queue created on first use: the storage SDK is loaded only when a message is actually sent
 * or received (a CA without Intune endpoints never loads it).
 */
export function lazyQueue(name: string, create: () => Promise<MessageQueue>): MessageQueue {
  let queue: Promise<MessageQueue> | undefined;
  const get = (): Promise<MessageQueue> => {
    queue ??= create().catch((e: unknown) => {
      queue = undefined;
      throw e;
    });
    return queue;
  };
  return {
    name,
    send: async (text, options) => (await get()).send(text, options),
    receive: async (max: number, visibilitySeconds: number): Promise<ReceivedMessage[]> =>
      (await get()).receive(max, visibilitySeconds),
    delete: async (message) => (await get()).delete(message),
  };
}
