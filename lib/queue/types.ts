/**
 * A message queue, as narrow as the notification worker needs. Texts are the decoded message
 * bodies (JSON); an implementation takes care of the wire encoding. The Azure Storage one
 * writes base64, which is what the Functions queue trigger decodes by default
 * (`extensions.queues.messageEncoding` = base64).
 */
export interface ReceivedMessage {
  readonly id: string;
  readonly popReceipt: string;
  readonly text: string;
  readonly dequeueCount: number;
}

export interface MessageQueue {
  readonly name: string;
  /** Enqueue `text`; with `delaySeconds` it becomes visible only after that delay (max 7 days). */
  send(text: string, options?: { readonly delaySeconds?: number }): Promise<void>;
  /** Up to `max` (≤ 32) visible messages, hidden from others for `visibilitySeconds`. */
  receive(max: number, visibilitySeconds: number): Promise<ReceivedMessage[]>;
  delete(message: ReceivedMessage): Promise<void>;
}
