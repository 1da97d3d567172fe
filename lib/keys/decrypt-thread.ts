import { availableParallelism } from 'node:os';
import { privateDecrypt, type KeyObject } from 'node:crypto';
import { Worker } from 'node:worker_threads';

/**
 * RSA private-key decryption (every SCEP enrollment opens one envelope). Node's
 * crypto.privateDecrypt has no callback form (unlike crypto.sign, which runs on libuv's thread
 * pool), so one RSA-2048 decryption holds the event loop for 0.2–1 ms depending on the CPU.
 * On a machine with cores to spare it runs on a worker thread: one thread, started on first use
 * and kept only while requests are in flight; if it cannot start or dies, the decryption runs
 * here instead, so the answer never depends on it. On one or two cores the hand-off (a message
 * each way and two thread wake-ups) costs more than it frees: there every core is already busy
 * with the event loop, libuv's signatures and the client, and enrollments/s at concurrency 4
 * measured higher with the decryption on the event loop.
 */
export const DECRYPT_ON_THREAD = availableParallelism() > 2;

/** crypto.privateDecrypt, on the worker thread where `onThread` (DECRYPT_ON_THREAD) says so. */
export function rsaPrivateDecrypt(
  key: KeyObject,
  options: DecryptOptions,
  data: Uint8Array,
  onThread = DECRYPT_ON_THREAD,
): Promise<Buffer> {
  return onThread ? privateDecryptOffThread(key, options, data) : runHere(key, options, data);
}

export interface DecryptOptions {
  readonly padding: number;
  readonly oaepHash?: string;
}

const SOURCE = `
const { parentPort } = require('node:worker_threads');
const { privateDecrypt } = require('node:crypto');
const keys = new Map();
parentPort.on('message', ({ id, keyId, key, options, data }) => {
  if (key) keys.set(keyId, key);
  try {
    parentPort.postMessage({ id, out: privateDecrypt({ key: keys.get(keyId), ...options }, data) });
  } catch {
    parentPort.postMessage({ id, failed: true });
  }
});
`;

interface Reply {
  readonly id: number;
  readonly out?: Uint8Array;
  readonly failed?: true;
}

let worker: Worker | undefined;
let broken = false;
let nextId = 0;
/** Keys already sent to the thread (sending a KeyObject copies it: once per key, not per call). */
let sent = new WeakMap<KeyObject, number>();
let nextKeyId = 0;
const pending = new Map<number, { resolve: (b: Buffer) => void; reject: (e: Error) => void }>();

function thread(): Worker | undefined {
  if (worker || broken) return worker;
  try {
    const w = new Worker(SOURCE, { eval: true });
    w.on('message', (r: Reply) => {
      const p = pending.get(r.id);
      pending.delete(r.id);
      if (pending.size === 0) w.unref();
      if (!p) return;
      if (r.out) p.resolve(Buffer.from(r.out.buffer, r.out.byteOffset, r.out.byteLength));
      else p.reject(new Error('RSA decryption failed'));
    });
    const stop = (): void => {
      if (worker === w) worker = undefined;
      sent = new WeakMap();
      broken = true;
      for (const p of pending.values()) p.reject(new Error('decryption thread stopped'));
      pending.clear();
    };
    w.on('error', stop);
    w.on('exit', stop);
    w.unref();
    worker = w;
  } catch {
    broken = true;
  }
  return worker;
}

/** crypto.privateDecrypt off the event loop; rejects where privateDecrypt would throw. */
export function privateDecryptOffThread(
  key: KeyObject,
  options: DecryptOptions,
  data: Uint8Array,
): Promise<Buffer> {
  const w = thread();
  if (!w) return runHere(key, options, data);
  const id = nextId++;
  return new Promise<Buffer>((resolve, reject) => {
    pending.set(id, { resolve, reject });
    w.ref();
    const keyId = sent.get(key);
    if (keyId !== undefined) {
      w.postMessage({ id, keyId, options, data });
    } else {
      sent.set(key, nextKeyId);
      w.postMessage({ id, keyId: nextKeyId++, key, options, data });
    }
  }).catch((e: unknown) =>
    broken ? runHere(key, options, data) : Promise.reject(e instanceof Error ? e : new Error(String(e))),
  );
}

function runHere(key: KeyObject, options: DecryptOptions, data: Uint8Array): Promise<Buffer> {
  try {
    return Promise.resolve(privateDecrypt({ key, ...options }, data));
  } catch (e) {
    return Promise.reject(e instanceof Error ? e : new Error(String(e)));
  }
}
