import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

/** How often the background thread checkpoints. */
const CHECKPOINT_INTERVAL_MS = 500;

/**
 * WAL pages after which the serving connection checkpoints by itself: a
 * fallback far above what one interval writes, so that normally only the
 * background thread does it.
 */
export const SERVING_AUTOCHECKPOINT_PAGES = 20_000;

// Runs in its own thread, with its own connection to the same file.
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.module);
const db = new Database(workerData.file);
db.pragma("busy_timeout = 1000");
const timer = setInterval(() => {
  try {
    db.pragma("wal_checkpoint(PASSIVE)");
  } catch {
    // Busy or closing: the next interval tries again.
  }
}, workerData.intervalMs);
parentPort.once("message", () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

/** A background WAL checkpointer; `stop` closes its connection and ends the thread. */
export interface SqliteCheckpointer {
  stop(): Promise<void>;
}

/**
 * Moves SQLite's WAL checkpoints off the event loop. A checkpoint copies
 * the WAL into the database file and flushes it to disk; on the serving
 * connection it runs inside whichever commit crosses the threshold, and
 * better-sqlite3 blocks the event loop meanwhile, so every few hundred
 * commits one send waited tens to hundreds of milliseconds. A PASSIVE
 * checkpoint from another connection never blocks writers or readers.
 */
export function startSqliteCheckpointer(file: string): SqliteCheckpointer {
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { file, module: createRequire(import.meta.url).resolve("better-sqlite3"), intervalMs: CHECKPOINT_INTERVAL_MS },
  });
  // Without it the serving connection still checkpoints (at the fallback threshold).
  worker.on("error", () => {});
  worker.unref();
  const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
  return {
    stop: async () => {
      // Held while it stops: unreferenced, a process with nothing else
      // left to run would exit before the thread did, leaving the caller's
      // await unsettled (and the rest of a shutdown unrun).
      worker.ref();
      worker.postMessage("stop");
      await Promise.race([exited, new Promise<void>((resolve) => setTimeout(resolve, 2000).unref())]);
      await worker.terminate();
    },
  };
}
