import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Sqlite } from './sqlite.js';

/**
 * Checkpoints of the embedded database on a thread of their own.
 *
 * In WAL mode SQLite copies the log back into the database file in a checkpoint, by default
 * inside the commit that crosses `wal_autocheckpoint` pages, and with synchronous=NORMAL that
 * checkpoint syncs the log and the database file (sqlite.org/wal.html#ckpt). The binding is
 * synchronous, so that commit holds the event loop for the copy and both syncs: measured at
 * 60–220 ms every few hundred enrollments, the whole of the tail latency. SQLite's own advice is
 * to "run checkpoints in a separate thread or process"; this thread opens a second connection to
 * the same file and every INTERVAL_MS runs a PASSIVE checkpoint, which never blocks the writer.
 * Under a steady stream of commits a passive checkpoint never finds the log fully copied, so the
 * writer never starts the log over; once the log holds RESTART_FRAMES frames the thread follows
 * with a RESTART checkpoint, which copies only what arrived during the passive one, so the
 * writer waits a few milliseconds at most and the log file stops growing.
 *
 * The main connection keeps its own `wal_autocheckpoint` as the fallback: if the thread stops or
 * falls behind, the log still never grows past that many pages. Durability is unchanged: every
 * commit is in the log before it returns; checkpoints only move committed pages.
 */
export const INTERVAL_MS = 200;
export const RESTART_FRAMES = 2_000;

const SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.binding);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 5000');
db.pragma('synchronous = NORMAL');
const checkpoint = () => {
  try {
    const [passive] = db.pragma('wal_checkpoint(PASSIVE)');
    if (passive && passive.log >= workerData.restartFrames) db.pragma('wal_checkpoint(RESTART)');
  } catch (e) {
    parentPort.postMessage({ failed: String((e && e.code) || e) });
  }
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  Atomics.store(workerData.closed, 0, 1);
  Atomics.notify(workerData.closed, 0);
  parentPort.close();
});
parentPort.postMessage({ ready: true });
`;

export interface Checkpointer {
  /** Stops the thread and closes its connection, so the main connection can close last. */
  stop(): void;
}

/** Starts the checkpoint thread for `file`, which `db` has open; none for an in-memory database. */
export function startCheckpointer(
  db: Sqlite,
  file: string,
  onFailure: (reason: string) => void = () => undefined,
): Checkpointer {
  if (file === ':memory:') return { stop: () => undefined };
  const closed = new Int32Array(new SharedArrayBuffer(4));
  let running = true;
  let worker: Worker;
  try {
    worker = new Worker(SOURCE, {
      eval: true,
      workerData: {
        binding: createRequire(import.meta.url).resolve('libsql'),
        file,
        intervalMs: INTERVAL_MS,
        restartFrames: RESTART_FRAMES,
        closed,
      },
    });
  } catch (e) {
    onFailure(e instanceof Error ? e.message : String(e));
    return { stop: () => undefined };
  }
  worker.unref();
  worker.on('message', (m: { failed?: string }) => {
    if (m.failed !== undefined) onFailure(m.failed);
  });
  worker.on('error', (e) => {
    onFailure(e.message);
  });
  worker.on('exit', () => {
    running = false;
  });
  return {
    stop: () => {
      if (!running || !db.open) return;
      running = false;
      worker.postMessage('stop');
      // Synchronous, like the close it is part of: the thread closes its connection first, so
      // the main connection is the last to close and makes the final checkpoint.
      Atomics.wait(closed, 0, 0, 2_000);
    },
  };
}
