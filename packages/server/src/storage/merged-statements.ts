import type { Kysely, Transaction } from "kysely";
import type { Database } from "./schema.js";

type Db = Kysely<Database> | Transaction<Database>;

/** One caller's item, waiting for the statement that carries it. */
export interface Merged<T, R> {
  readonly item: T;
  resolve(value: R): void;
  reject(err: unknown): void;
}

/**
 * Items handed to the same transaction or connection within one turn of
 * the event loop (the units of a commit group, see `CommitGroup`, reach it
 * within a few microtasks of each other), written by one statement: on
 * PostgreSQL a statement's cost is mostly its round trip, not its rows.
 * `run` writes the whole batch and answers each caller; should it throw,
 * every caller of the batch gets the error (a commit group then runs each
 * unit again alone). An item handed over later, after I/O of its own, goes
 * in a statement of its own on the same transaction.
 */
export class StatementMerger<T, R> {
  readonly #run: (db: Db, batch: Array<Merged<T, R>>) => Promise<void>;
  readonly #pending = new WeakMap<Db, Array<Merged<T, R>>>();

  constructor(run: (db: Db, batch: Array<Merged<T, R>>) => Promise<void>) {
    this.#run = run;
  }

  add(db: Db, item: T): Promise<R> {
    let batch = this.#pending.get(db);
    if (!batch) {
      const fresh: Array<Merged<T, R>> = [];
      this.#pending.set(db, fresh);
      batch = fresh;
      // A tick callback runs once the microtasks queued so far have run,
      // before the event loop turns to other I/O.
      process.nextTick(() => {
        this.#pending.delete(db);
        Promise.resolve()
          .then(() => this.#run(db, fresh))
          .catch((err: unknown) => {
            for (const m of fresh) m.reject(err);
          });
      });
    }
    return new Promise<R>((resolve, reject) => batch.push({ item, resolve, reject }));
  }
}
