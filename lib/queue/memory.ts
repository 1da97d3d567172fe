import { randomUUID } from 'node:crypto';
import type { MessageQueue, ReceivedMessage } from './types.js';

interface Stored {
  readonly id: string;
  readonly text: string;
  visibleAt: number;
  dequeueCount: number;
  popReceipt: string;
}

/** In-process MessageQueue with the Storage semantics the worker relies on (visibility, pop receipts). */
export class MemoryMessageQueue implements MessageQueue {
  private readonly messages: Stored[] = [];

  constructor(
    readonly name: string,
    private readonly now: () => number = Date.now,
  ) {}

  send(text: string, options?: { readonly delaySeconds?: number }): Promise<void> {
    const delay = Math.max(options?.delaySeconds ?? 0, 0) * 1000;
    this.messages.push({
      id: randomUUID(),
      text,
      visibleAt: this.now() + delay,
      dequeueCount: 0,
      popReceipt: '',
    });
    return Promise.resolve();
  }

  receive(max: number, visibilitySeconds: number): Promise<ReceivedMessage[]> {
    const t = this.now();
    const out: ReceivedMessage[] = [];
    for (const m of this.messages) {
      if (out.length >= Math.min(max, 32)) break;
      if (m.visibleAt > t) continue;
      m.dequeueCount += 1;
      m.popReceipt = randomUUID();
      m.visibleAt = t + visibilitySeconds * 1000;
      out.push({ id: m.id, popReceipt: m.popReceipt, text: m.text, dequeueCount: m.dequeueCount });
    }
    return Promise.resolve(out);
  }

  delete(message: ReceivedMessage): Promise<void> {
    const i = this.messages.findIndex((m) => m.id === message.id && m.popReceipt === message.popReceipt);
    if (i < 0) return Promise.reject(new Error(`message ${message.id}: pop receipt mismatch`));
    this.messages.splice(i, 1);
    return Promise.resolve();
  }

  /** Test helper: every message text, visible or not. */
  get texts(): string[] {
    return this.messages.map((m) => m.text);
  }
}
