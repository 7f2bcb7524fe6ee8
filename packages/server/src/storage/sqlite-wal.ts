import { open, type FileHandle } from "node:fs/promises";
import { setImmediate as nextTurn } from "node:timers/promises";
import type SqliteDatabase from "better-sqlite3";
import { preparedStatement } from "./sqlite-statements.js";

/** Flushes a file's data to disk (`fdatasync`). */
export type SyncFile = (handle: FileHandle) => Promise<void>;

const datasync: SyncFile = (handle) => handle.datasync();

/**
 * Durable commits on SQLite whose wait for the disk happens off the event
 * loop.
 *
 * With `synchronous = FULL` in WAL mode, SQLite's COMMIT writes the
 * transaction's frames to the WAL file and then flushes that file to disk,
 * and better-sqlite3 runs both on the event loop: a commit held every socket
 * of the server for the flush, usually a fraction of a millisecond, but on
 * this kind of virtual disk one flush in a few thousand takes 20 to 60 ms.
 *
 * `begin` and `commit` run a transaction with `synchronous = NORMAL` (the
 * frames are written, not flushed; everything else about WAL mode, its
 * checkpoints and recovery, is as with FULL), and `commit` then flushes the
 * WAL file with `fdatasync` on libuv's thread pool, the very flush FULL
 * would have done. Its promise
 * settles once that flush has finished: that is when the transaction is as
 * durable as a FULL commit, and only then may it be acknowledged. The loop
 * meanwhile reads sockets, runs the next transaction and answers reads.
 *
 * One flush is under way at a time; commits made meanwhile share the next
 * one, which starts after them (a flush covers every frame written before it
 * started, whoever wrote it).
 *
 * What it changes: between the COMMIT and the end of its flush (the flush's
 * time, usually well under a millisecond), the transaction is visible to
 * reads on this connection although it would not survive a power cut or a
 * crash of the machine (a crash of the process loses nothing: the frames are
 * in the file). PostgreSQL shows a commit to others only after its flush.
 * Parley acknowledges and delivers a message only after the flush either way;
 * what a reader could see early is a message in a history page or sync
 * answer, in that window.
 *
 * The connection stays at FULL for everything else: only the transactions
 * run through `begin` and `commit`, or `withoutSync`, skip SQLite's own flush.
 *
 * A flush that fails leaves its transaction committed but maybe not on disk,
 * and Linux reports such a failure once: a later flush can succeed although
 * the frames before it never reached the disk. So after one failed flush
 * every later one fails with the same error, and nothing more is
 * acknowledged (the writes are answered `unavailable`) until the server is
 * restarted and SQLite recovers the log from what is on disk, as
 * PostgreSQL stops on a failed flush of its own log.
 */
export class SqliteWal {
  readonly #sqlite: SqliteDatabase.Database;
  readonly #path: string;
  readonly #sync: SyncFile;
  #handle: Promise<FileHandle> | null = null;
  /** The flush under way, if any. */
  #running: Promise<void> | null = null;
  /** The flush that starts when the running one ends, shared by every commit made meanwhile. */
  #queued: Promise<void> | null = null;
  #closed = false;
  /** The error of a flush that failed: every later flush fails with it. */
  #failed: unknown = null;

  /** `file` is the database's path; its WAL is `<file>-wal`. */
  constructor(sqlite: SqliteDatabase.Database, file: string, options: { sync?: SyncFile } = {}) {
    this.#sqlite = sqlite;
    this.#path = `${file}-wal`;
    this.#sync = options.sync ?? datasync;
  }

  /**
   * Runs `fn` (synchronous statements on this connection, outside any
   * transaction: SQLite refuses to change the setting inside one) with
   * SQLite's own flush at commit off: for a transaction that needs no flush
   * of its own, as derived data that a later flush, or a checkpoint, takes to
   * disk with everything before it.
   */
  withoutSync<T>(fn: () => T): T {
    this.#setSync(false);
    try {
      return fn();
    } finally {
      this.#setSync(true);
    }
  }

  /**
   * Opens a transaction whose commit, through {@link commit}, does not wait
   * for the disk. Until it is committed or rolled back, nothing else may
   * commit on the connection (hold Kysely's connection meanwhile).
   */
  begin(): void {
    this.#setSync(false);
    try {
      preparedStatement(this.#sqlite, "begin").run();
    } catch (err) {
      this.#setSync(true);
      throw err;
    }
  }

  /**
   * Commits the transaction {@link begin} opened (throws as COMMIT does when
   * it cannot, the transaction then still to be rolled back); the promise
   * settles once the commit is on disk, and rejects when the flush failed
   * (the transaction then counts as not stored, though it may be).
   */
  commit(): Promise<void> {
    preparedStatement(this.#sqlite, "commit").run();
    // Committed: from here on this only fails through its promise, so that
    // the caller never runs the transaction's work again.
    try {
      this.#setSync(true);
    } catch (err) {
      // Left at NORMAL, later commits would not be flushed by SQLite.
      this.#failed ??= err;
    }
    return this.flush();
  }

  /** Rolls back the transaction {@link begin} opened, if a failed COMMIT has not already. */
  rollback(): void {
    try {
      if (this.#sqlite.inTransaction) preparedStatement(this.#sqlite, "rollback").run();
    } finally {
      // Refused while a failed ROLLBACK left the transaction open; the
      // ROLLBACK's own error is the one to report.
      if (!this.#sqlite.inTransaction) this.#setSync(true);
    }
  }

  /**
   * Resolves once the flushes under way or queued now have ended and the
   * writes that waited for them have been answered: for a transaction that
   * SQLite flushed itself, so that what it announces follows what the
   * groups committed before it announce.
   */
  settled(): Promise<void> {
    if (!this.#running && !this.#queued) return Promise.resolve();
    return Promise.allSettled([this.#running, this.#queued]).then(() => nextTurn());
  }

  /** The error of the flush that failed, after which nothing more is acknowledged; null while none has. */
  get failed(): unknown {
    return this.#failed;
  }

  /** Resolves once every frame written to the WAL before this call is on disk. */
  flush(): Promise<void> {
    // Worded as Kysely words a destroyed driver, which counts as unavailable.
    if (this.#closed) return Promise.reject(new Error("the driver has already been destroyed"));
    if (this.#failed) return Promise.reject(this.#failed);
    if (this.#queued) return this.#queued;
    if (!this.#running) return this.#start();
    const queued = this.#running.then(
      () => this.#start(),
      () => this.#start(),
    );
    this.#queued = queued;
    return queued;
  }

  /** Waits for the flushes under way and closes the WAL file. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled([this.#running, this.#queued]);
    const handle = await this.#handle?.catch(() => null);
    this.#handle = null;
    await handle?.close();
  }

  #setSync(full: boolean): void {
    preparedStatement(this.#sqlite, full ? "pragma synchronous = FULL" : "pragma synchronous = NORMAL").run();
  }

  #start(): Promise<void> {
    this.#queued = null;
    const running = this.#flushOnce().finally(() => {
      if (this.#running === running) this.#running = null;
    });
    this.#running = running;
    return running;
  }

  async #flushOnce(): Promise<void> {
    if (this.#failed) throw this.#failed;
    // The WAL exists once a transaction has been committed to it, and SQLite
    // keeps the same file (rewinding it after checkpoints) while any
    // connection to the database is open, as the serving one is.
    this.#handle ??= open(this.#path, "r+").catch((err: unknown) => {
      this.#handle = null;
      throw err;
    });
    try {
      await this.#sync(await this.#handle);
    } catch (err) {
      this.#failed ??= err;
      throw err;
    }
  }
}
