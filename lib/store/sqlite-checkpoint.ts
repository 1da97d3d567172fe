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
 * to run checkpoints in a separate thread or process; this thread opens a second connection to
 * the same file and every INTERVAL_MS runs a PASSIVE checkpoint, which never waits for and never
 * blocks the writer.
 *
 * Under a steady stream of commits a passive checkpoint never finds the log fully copied, so the
 * writer never starts the log over and the file grows. Once the log holds RESTART_FRAMES frames
 * and the passive checkpoint has copied all of them, the thread follows with a RESTART
 * checkpoint: it copies only what arrived in between, but holds the write lock meanwhile
 * (sqlite.org/c3ref/wal_checkpoint_v2.html), so a commit waits for that short copy. The thread's
 * connection has no busy timeout: when a reader still uses the log (a `.backup` in progress) the
 * RESTART gives up at once and the next tick tries again, rather than making the writer wait.
 *
 * The main connection keeps its own `wal_autocheckpoint` as the fallback: if the thread stops or
 * falls behind, the log still never grows past that many pages. Durability is unchanged: every
 * commit is in the log before it returns; the thread's connection is synchronous=NORMAL too, so
 * a checkpoint syncs the log before copying it and the file before the log is reused.
 */
export const INTERVAL_MS = 200;
export const RESTART_FRAMES = 2_000;
/** How long close() waits for the thread to close its connection. */
const STOP_WAIT_MS = 2_000;

const SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { closed } = workerData;
const done = (state) => { Atomics.store(closed, 0, state); Atomics.notify(closed, 0); };
let db;
try {
  const Database = require(workerData.binding);
  db = new Database(workerData.file);
  db.pragma('busy_timeout = 0');
  db.pragma('synchronous = NORMAL');
} catch (e) {
  parentPort.postMessage({ failed: 'the checkpoint thread cannot open the database: ' + String((e && e.code) || e) });
  done(2);
  process.exit(0);
}
let restartedAt = -1;
const checkpoint = () => {
  try {
    const [passive] = db.pragma('wal_checkpoint(PASSIVE)');
    if (!passive || passive.log < workerData.restartFrames || passive.log === restartedAt) return;
    if (passive.checkpointed !== passive.log) return;
    const [restart] = db.pragma('wal_checkpoint(RESTART)');
    if (restart && restart.busy === 0) restartedAt = passive.log;
  } catch (e) {
    if (e && e.code === 'SQLITE_BUSY') return;
    parentPort.postMessage({ failed: 'checkpoint failed: ' + String((e && e.code) || e) });
  }
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  try { db.close(); } finally { done(1); parentPort.close(); }
});
parentPort.postMessage({ ready: true });
`;

export interface Checkpointer {
  /** Settles true once the thread has its connection open; false if it never will. */
  readonly ready: Promise<boolean>;
  /** Stops the thread and waits for it to close its connection, so the main connection is the last. */
  stop(): void;
}

/**
 * Starts the checkpoint thread for `file`, which `db` has open (none for an in-memory
 * database). `onFailure` hears of a thread that cannot start or a checkpoint that failed;
 * commits go on either way, with the main connection's own checkpoints as the fallback.
 */
export function startCheckpointer(
  db: Sqlite,
  file: string,
  onFailure: (reason: string) => void = () => undefined,
): Checkpointer {
  const none = { ready: Promise.resolve(false), stop: () => undefined };
  if (file === ':memory:') return none;
  const closed = new Int32Array(new SharedArrayBuffer(4));
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
    onFailure(`the checkpoint thread did not start: ${e instanceof Error ? e.message : String(e)}`);
    return none;
  }
  worker.unref();
  let running = true;
  const ready = new Promise<boolean>((resolve) => {
    worker.on('message', (m: { ready?: true; failed?: string }) => {
      if (m.ready) resolve(true);
      if (m.failed !== undefined) onFailure(m.failed);
    });
    worker.on('error', (e) => {
      onFailure(`the checkpoint thread failed: ${e.message}`);
    });
    worker.on('exit', () => {
      running = false;
      resolve(false);
    });
  });
  return {
    ready,
    stop: () => {
      if (!running) return;
      running = false;
      worker.postMessage('stop');
      // Synchronous, like the close it is part of. The thread never waits on a lock, so it
      // answers within one checkpoint; the main connection then closes last and checkpoints.
      if (Atomics.wait(closed, 0, 0, STOP_WAIT_MS) === 'timed-out' && db.open) {
        onFailure('the checkpoint thread did not close its connection in time');
      }
    },
  };
}
