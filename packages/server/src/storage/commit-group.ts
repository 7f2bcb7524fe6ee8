import type { Kysely, Transaction } from "kysely";
import type { DialectName } from "./database.js";
import type { Database } from "./schema.js";

/** A piece of writing that can share its transaction with others. */
export type GroupedWork<T> = (trx: Transaction<Database>) => Promise<T>;

interface Queued {
  work: GroupedWork<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

interface Lane {
  queue: Queued[];
  busy: boolean;
}

/** Most units of work committed in one transaction. */
const MAX_GROUP = 128;

/** FNV-1a: spreads keys over lanes the same way on every node and run. */
function hash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * Group commit: writes that arrive at about the same time run one after
 * another in one transaction and share its commit, so a burst of sends (or
 * of connects) costs one flush to disk instead of one each. Committing is
 * what a small write spends most of its time on: a few milliseconds of
 * `fsync`, which on SQLite also blocks the event loop.
 *
 * Work is spread over lanes by `key` (the conversation, the user). Each lane
 * commits one group at a time, in arrival order, so writes with one key keep
 * their order; lanes never share a key, so groups open at the same time
 * (PostgreSQL) do not wait on each other's row locks. When any unit of a
 * group fails, the group rolls back and each unit runs again alone, so a
 * failure reaches only the caller whose work caused it; a unit's work must
 * therefore be safe to run twice (it only touches the transaction given).
 */
export class CommitGroup {
  readonly #db: Kysely<Database>;
  /** SQLite has one connection; on PostgreSQL a few groups overlap so that one's round trips and commit do not hold up the rest. */
  readonly #lanes: Lane[];
  #scheduled = false;

  constructor(db: Kysely<Database>, dialect: DialectName) {
    this.#db = db;
    this.#lanes = Array.from({ length: dialect === "postgres" ? 4 : 1 }, () => ({ queue: [], busy: false }));
  }

  /** Runs `work` in a transaction shared with other work that is ready now; resolves once it committed. */
  run<T>(key: string, work: GroupedWork<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const lane = this.#lanes.length === 1 ? this.#lanes[0]! : this.#lanes[hash(key) % this.#lanes.length]!;
      lane.queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      // Wait for the rest of this turn of the event loop: work that is ready
      // at the same time joins the same group.
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => {
          this.#scheduled = false;
          for (const l of this.#lanes) this.#drain(l);
        });
      }
    });
  }

  #drain(lane: Lane): void {
    if (lane.busy || lane.queue.length === 0) return;
    lane.busy = true;
    void this.#commit(lane.queue.splice(0, MAX_GROUP)).finally(() => {
      lane.busy = false;
      this.#drain(lane);
    });
  }

  async #alone(item: Queued): Promise<void> {
    await this.#db.transaction().execute(item.work).then(item.resolve, item.reject);
  }

  async #commit(group: Queued[]): Promise<void> {
    if (group.length === 1) return this.#alone(group[0]!);
    let values: unknown[];
    try {
      values = await this.#db.transaction().execute(async (trx) => {
        const results: unknown[] = [];
        for (const item of group) results.push(await item.work(trx));
        return results;
      });
    } catch {
      for (const item of group) await this.#alone(item);
      return;
    }
    group.forEach((item, i) => item.resolve(values[i]));
  }
}
