import type { Kysely, Transaction } from "kysely";
import type { Storage } from "../storage/database.js";
import type { Database } from "../storage/schema.js";
import type { DomainEvent, DomainEvents } from "./domain-events.js";

/** Records a domain event to announce once the transaction commits. */
export type Emit = (event: DomainEvent) => void;

/** Something that writes rows for events inside the transaction that caused them (the webhook outbox). */
export interface EventRecorder {
  record(trx: Transaction<Database>, events: readonly DomainEvent[]): Promise<void>;
}

/** Either the database or an open transaction. */
export type Db = Kysely<Database> | Transaction<Database>;

/**
 * Runs `work` in one transaction. Events it emits are recorded (webhook
 * outbox rows) in that same transaction and published to the edges only
 * after the commit, so nothing is announced that was not stored.
 */
export class UnitOfWork {
  readonly #storage: Storage;
  readonly #events: DomainEvents;
  readonly #recorder: EventRecorder;

  constructor(storage: Storage, events: DomainEvents, recorder: EventRecorder) {
    this.#storage = storage;
    this.#events = events;
    this.#recorder = recorder;
  }

  async run<T>(work: (trx: Transaction<Database>, emit: Emit) => Promise<T>): Promise<T> {
    const pending: DomainEvent[] = [];
    const result = await this.#storage.db.transaction().execute(async (trx) => {
      const value = await work(trx, (event) => pending.push(event));
      if (pending.length > 0) await this.#recorder.record(trx, pending);
      return value;
    });
    for (const event of pending) this.#events.publish(event);
    return result;
  }

  /** Publishes an event that has no row to commit with it (read and delivery receipts). */
  publish(event: DomainEvent): void {
    this.#events.publish(event);
  }
}
