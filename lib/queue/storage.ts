import type { TokenCredential } from '@azure/identity';
import { QueueClient, type StoragePipelineOptions } from '@azure/storage-queue';
import type { QueueConnection } from '../config/intune.js';
import { dependencyUnavailable } from '../errors.js';
import type { MessageQueue, ReceivedMessage } from './types.js';

/**
 * Azure Storage queue (or Azurite) behind MessageQueue. Message texts are written base64, the
 * Functions host's default `messageEncoding`, so a queue trigger on the same queue receives the
 * original JSON. The queue is created on first use. Every call is time-boxed by the SDK's retry
 * policy (3 tries of 10 s); failures surface as AppError DEPENDENCY_UNAVAILABLE.
 */

const PIPELINE: StoragePipelineOptions = { retryOptions: { maxTries: 3, tryTimeoutInMs: 10_000 } };

export interface StorageQueueOptions {
  /**
   * Messages never expire (time-to-live -1) instead of Storage's default 7 days: a poison queue
   * holds what only an operator's re-drive takes out.
   */
  readonly keep?: boolean;
}

export class StorageMessageQueue implements MessageQueue {
  private ensured: Promise<unknown> | undefined;

  constructor(
    private readonly client: QueueClient,
    private readonly o: StorageQueueOptions = {},
  ) {}

  get name(): string {
    return this.client.name;
  }

  async send(text: string, options?: { readonly delaySeconds?: number }): Promise<void> {
    await this.call('send to', async () => {
      await this.ensure();
      const delay = Math.min(Math.max(Math.ceil(options?.delaySeconds ?? 0), 0), 7 * 24 * 3600);
      await this.client.sendMessage(Buffer.from(text, 'utf8').toString('base64'), {
        ...(delay > 0 ? { visibilityTimeout: delay } : {}),
        ...(this.o.keep ? { messageTimeToLive: -1 } : {}),
      });
    });
  }

  receive(max: number, visibilitySeconds: number): Promise<ReceivedMessage[]> {
    return this.call('receive from', async () => {
      await this.ensure();
      const res = await this.client.receiveMessages({
        numberOfMessages: Math.min(Math.max(max, 1), 32),
        visibilityTimeout: Math.max(1, Math.ceil(visibilitySeconds)),
      });
      return res.receivedMessageItems.map((m) => ({
        id: m.messageId,
        popReceipt: m.popReceipt,
        text: decodeBase64Text(m.messageText),
        dequeueCount: m.dequeueCount,
      }));
    });
  }

  async delete(message: ReceivedMessage): Promise<void> {
    await this.call('delete from', () => this.client.deleteMessage(message.id, message.popReceipt));
  }

  private ensure(): Promise<unknown> {
    this.ensured ??= this.client.createIfNotExists().catch((e: unknown) => {
      this.ensured = undefined;
      throw e;
    });
    return this.ensured;
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw dependencyUnavailable(`could not ${what} the storage queue ${this.client.name}`, e);
    }
  }
}

/** A queue from a connection setting (see QueueConnection); `credential` for account URLs. */
export function createStorageQueue(
  connection: QueueConnection,
  name: string,
  credential?: TokenCredential,
  options?: StorageQueueOptions,
): StorageMessageQueue {
  if (connection.kind === 'connectionString') {
    return new StorageMessageQueue(new QueueClient(connection.connectionString, name, PIPELINE), options);
  }
  if (!credential) throw new Error('createStorageQueue: an account URL needs a TokenCredential');
  const url = `${connection.url.replace(/\/+$/, '')}/${name}`;
  return new StorageMessageQueue(new QueueClient(url, credential, PIPELINE), options);
}

/** Messages written by others (the portal, older tools) may be plain text: keep those as is. */
function decodeBase64Text(s: string): string {
  if (s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) return s;
  const bytes = Buffer.from(s, 'base64');
  if (bytes.toString('base64') !== s) return s;
  const text = bytes.toString('utf8');
  return text.includes('\uFFFD') ? s : text;
}
