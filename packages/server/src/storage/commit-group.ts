import type { Kysely, Transaction } from "kysely";
import pg from "pg";
import { isStalePlan, type DialectName } from "./database.js";
import type { Database } from "./schema.js";
import type { SqliteWal } from "./sqlite-wal.js";

/**
 * A piece of writing that can share its transaction with others. It gets the
 * transaction, or (a unit run with `oneStatement`, see {@link CommitGroup.run})
 * a connection outside any transaction.
 */
export type GroupedWork<T> = (db: Kysely<Database> | Transaction<Database>) => Promise<T>;

interface Queued {
  work: GroupedWork<unknown>;
  oneStatement: boolean;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/** Most units of work committed in one transaction. */
const MAX_GROUP = 128;

/**
 * Shortest time between the starts of two groups on SQLite. A commit there
 * used to flush the WAL to disk on the event loop (about 0.25 ms here, half
 * of it CPU; since then the flush runs on the thread pool, see `SqliteWal`)
 * and commits are otherwise quick, so without a pause every send that
 * arrived during the last commit, about one at a few thousand a second,
 * made a group of its own: profiled at 2,500 sends a second, 47 % of the
 * event loop went to commits. With the pause a busy server commits at most
 * every few milliseconds and its groups grow; a quiet one, whose last
 * commit is older than this, commits at once. The flush costs CPU too on a
 * virtual disk, so fewer commits a second leave more for the rest: in
 * alternating fanout runs 6 ms held as much as 3 ms or more, at 58 to 74 %
 * of a core instead of 68 to 95 % at 2,563 sends a second, for 2 to 3 ms
 * more latency at the median.
 */
export const SQLITE_COMMIT_INTERVAL_MS = 6;

/**
 * Group commit: writes that arrive while the previous group commits run in
 * one transaction and share its commit, so a burst of sends costs one flush
 * to disk (and, on PostgreSQL, one round trip for all their appends, see
 * `appendSentMessage`) instead of one each. Groups commit one at a time, in
 * arrival order, so the busier the server, the larger the groups: the cost
 * per write falls as the load rises.
 *
 * When any unit of a group fails, the group rolls back and each unit runs
 * again alone, so a failure reaches only the caller whose work caused it; a
 * unit's work must therefore be safe to run twice (it only touches the
 * transaction given).
 */
export class CommitGroup {
  readonly #db: Kysely<Database>;
  /**
   * On PostgreSQL the units of a group run side by side (their statements
   * still take turns on the one connection), so that statements that can be
   * merged, such as the sends' appends, reach the database as one; SQLite
   * runs them one after another, where a statement costs no round trip.
   */
  readonly #together: boolean;
  readonly #queue: Queued[] = [];
  readonly #interval: number;
  readonly #wal: SqliteWal | null;
  #busy = false;
  #scheduled = false;
  #lastStart = -Infinity;
  #paused: NodeJS.Timeout | null = null;

  /**
   * `wal` (SQLite with a file): groups commit through it, so that a group's
   * wait for the disk runs off the event loop while the next group gathers
   * and runs; each unit still resolves only once its commit is on disk.
   */
  constructor(db: Kysely<Database>, dialect: DialectName, options: { intervalMs?: number; wal?: SqliteWal | null } = {}) {
    this.#db = db;
    this.#together = dialect === "postgres";
    this.#interval = options.intervalMs ?? (dialect === "sqlite" ? SQLITE_COMMIT_INTERVAL_MS : 0);
    this.#wal = dialect === "sqlite" ? (options.wal ?? null) : null;
  }

  /**
   * Runs `work` in a transaction shared with other work that is ready now;
   * resolves once it committed.
   *
   * `oneStatement` says that `work` writes with one statement at most. On
   * PostgreSQL a group made only of such units runs without BEGIN and COMMIT,
   * each statement committing by itself: two round trips, and under load two
   * turns of the event loop, fewer per group. The units' statements still
   * merge (a send's append is one statement for the whole group, see
   * `appendSentMessage`), and a statement is atomic, so a unit is stored
   * whole or not at all; one whose statement fails runs again alone, in a
   * transaction, as in a group that rolled back.
   */
  run<T>(work: GroupedWork<T>, options: { oneStatement?: boolean } = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ work, oneStatement: Boolean(options.oneStatement), resolve: resolve as (value: unknown) => void, reject });
      // Wait for the rest of this turn of the event loop: work that is ready
      // at the same time joins the same group.
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => {
          this.#scheduled = false;
          this.#drain();
        });
      }
    });
  }

  #drain(): void {
    if (this.#busy || this.#paused || this.#queue.length === 0) return;
    const wait = this.#lastStart + this.#interval - performance.now();
    if (wait > 0 && this.#queue.length < MAX_GROUP) {
      this.#paused = setTimeout(() => {
        this.#paused = null;
        this.#drain();
      }, wait);
      return;
    }
    this.#lastStart = performance.now();
    this.#busy = true;
    void this.#commit(this.#queue.splice(0, MAX_GROUP)).finally(() => {
      this.#busy = false;
      this.#drain();
    });
  }

  async #alone(item: Queued): Promise<void> {
    await this.#db
      .transaction()
      .execute(item.work)
      .catch((err: unknown) => (isStalePlan(err) ? this.#db.transaction().execute(item.work) : Promise.reject(err)))
      .then(item.resolve, item.reject);
  }

  /** A group of one-statement units on PostgreSQL: their statements commit by themselves. */
  async #statements(group: Queued[]): Promise<void> {
    let settled: PromiseSettledResult<unknown>[];
    try {
      settled = await this.#db.connection().execute((conn) => Promise.allSettled(group.map((item) => item.work(conn))));
    } catch (err) {
      // No connection: nothing ran.
      for (const item of group) item.reject(err);
      return;
    }
    for (const [i, result] of settled.entries()) {
      const item = group[i]!;
      if (result.status === "fulfilled") item.resolve(result.value);
      // Refused by the database: its one statement did not happen, so it
      // runs again, alone. Any other failure (the unit's own error, before or
      // after its statement, or a connection lost mid-statement) is its
      // answer: its statement may stand, and running it again could store
      // it twice.
      else if (result.reason instanceof pg.DatabaseError) await this.#alone(item);
      else item.reject(result.reason);
    }
  }

  async #commit(group: Queued[]): Promise<void> {
    if (this.#wal) return this.#commitThroughWal(group, this.#wal);
    if (this.#together && group.every((item) => item.oneStatement)) return this.#statements(group);
    if (group.length === 1) return this.#alone(group[0]!);
    let values: unknown[];
    try {
      values = await this.#db.transaction().execute(async (trx) => {
        if (!this.#together) {
          const results: unknown[] = [];
          for (const item of group) results.push(await item.work(trx));
          return results;
        }
        const settled = await Promise.allSettled(group.map((item) => item.work(trx)));
        const failed = settled.find((s) => s.status === "rejected");
        if (failed) throw failed.reason;
        return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value);
      });
    } catch {
      for (const item of group) await this.#alone(item);
      return;
    }
    group.forEach((item, i) => item.resolve(values[i]));
  }

  /**
   * SQLite: the group's units run in one transaction on the connection, which
   * commits without waiting for the disk; this resolves then, so that the
   * next group can start, and each unit resolves once the flush that follows
   * the commit has finished (or rejects with the flush's error).
   */
  async #commitThroughWal(group: Queued[], wal: SqliteWal): Promise<void> {
    let committed: { values: unknown[]; durable: Promise<void> };
    try {
      committed = await this.#db.connection().execute(async (conn) => {
        wal.begin();
        try {
          const values: unknown[] = [];
          for (const item of group) values.push(await item.work(conn));
          return { values, durable: wal.commit() };
        } catch (err) {
          wal.rollback();
          throw err;
        }
      });
    } catch {
      // Alone, each commits with its own flush, on the loop: after the groups
      // before it are on disk and answered, so that answers keep their order.
      await wal.flush().catch(() => {});
      for (const item of group) await this.#alone(item);
      return;
    }
    committed.durable.then(
      () => group.forEach((item, i) => item.resolve(committed.values[i])),
      (err: unknown) => group.forEach((item) => item.reject(err)),
    );
  }
}
