import type { Kysely, Transaction } from "kysely";
import type { CommitGroup } from "../storage/commit-group.js";
import type { Storage } from "../storage/database.js";
import type { Database } from "../storage/schema.js";
import type { DomainEvent, DomainEvents } from "./domain-events.js";

/** Records a domain event to announce once the transaction commits. */
export type Emit = (event: DomainEvent) => void;

/** Something that writes rows for events inside the transaction that caused them (the webhook outbox). */
export interface EventRecorder {
  /** Whether `record` writes anything at all (when not, a unit of work is only its own statements). */
  readonly writes: boolean;
  record(trx: Db, events: readonly DomainEvent[]): Promise<void>;
}

/** Either the database or an open transaction. */
export type Db = Kysely<Database> | Transaction<Database>;

type Work<T> = (trx: Transaction<Database>, emit: Emit) => Promise<T>;
type GroupedWork<T> = (db: Db, emit: Emit) => Promise<T>;

/**
 * Runs `work` in one transaction. Events it emits are recorded (webhook
 * outbox rows) in that same transaction and published to the edges only
 * after the commit, so nothing is announced that was not stored.
 */
export class UnitOfWork {
  readonly #storage: Storage;
  readonly #events: DomainEvents;
  readonly #recorder: EventRecorder;
  readonly #group: CommitGroup;

  constructor(storage: Storage, events: DomainEvents, recorder: EventRecorder, group: CommitGroup) {
    this.#storage = storage;
    this.#events = events;
    this.#recorder = recorder;
    this.#group = group;
  }

  async run<T>(work: Work<T>): Promise<T> {
    const pending: DomainEvent[] = [];
    const result = await this.#storage.db.transaction().execute(async (trx) => {
      const value = await work(trx, (event) => pending.push(event));
      if (pending.length > 0) await this.#recorder.record(trx, pending);
      return value;
    });
    // SQLite: sends committed just before this may still wait for their
    // flush (see SqliteWal) and be announced after it; announce this after
    // them, so that a conversation's events keep the order of their seqs.
    if (pending.length > 0 && this.#storage.sqliteWal) await this.#storage.sqliteWal.settled();
    for (const event of pending) this.#events.publish(event);
    return result;
  }

  /**
   * Like {@link run}, but the transaction is shared with other work that is
   * ready at the same time (group commit, see {@link CommitGroup}), on
   * `Storage.batchDb`. `work` may run twice: once in the group and, when
   * something in the group fails, again alone. With `oneStatement`, the
   * caller promises that `work` writes with one statement at most; then
   * (PostgreSQL) it may run outside a transaction, its statement committing
   * by itself (see `CommitGroup.run`), and `db` is not a transaction.
   */
  async runGrouped<T>(work: GroupedWork<T>, options: { oneStatement?: boolean } = {}): Promise<T> {
    const oneStatement = Boolean(options.oneStatement) && !this.#recorder.writes;
    const { value, pending } = await this.#group.run(
      async (db) => {
        const emitted: DomainEvent[] = [];
        const result = await work(db, (event) => emitted.push(event));
        if (emitted.length > 0) await this.#recorder.record(db, emitted);
        return { value: result, pending: emitted };
      },
      { oneStatement },
    );
    for (const event of pending) this.#events.publish(event);
    return value;
  }

  /** Publishes an event that has no row to commit with it (read and delivery receipts). */
  publish(event: DomainEvent): void {
    this.#events.publish(event);
  }
}
