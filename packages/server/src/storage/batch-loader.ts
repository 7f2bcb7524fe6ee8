/** Runs one statement for many keys; answers in the order of `keys`. */
export type BatchRun<K, V> = (keys: readonly K[]) => Promise<V[]>;

interface Pending<K, V> {
  key: K;
  resolve: (value: V) => void;
  reject: (err: unknown) => void;
}

/**
 * Lookups asked for in the same turn of the event loop, or while the
 * previous batch is out, go to the database together as one statement. On
 * PostgreSQL a statement's cost is mostly its round trip (the system calls
 * on both sides), not its rows, so the busier the server, the fewer
 * statements per lookup. At most one batch is out at a time.
 */
export class BatchLoader<K, V> {
  readonly #run: BatchRun<K, V>;
  #pending: Pending<K, V>[] = [];
  #inFlight = false;
  #scheduled = false;

  constructor(run: BatchRun<K, V>) {
    this.#run = run;
  }

  load(key: K): Promise<V> {
    return new Promise<V>((resolve, reject) => {
      this.#pending.push({ key, resolve, reject });
      if (!this.#scheduled && !this.#inFlight) {
        this.#scheduled = true;
        setImmediate(() => {
          this.#scheduled = false;
          void this.#flush();
        });
      }
    });
  }

  async #flush(): Promise<void> {
    if (this.#inFlight || this.#pending.length === 0) return;
    const batch = this.#pending;
    this.#pending = [];
    this.#inFlight = true;
    try {
      const values = await this.#run(batch.map((b) => b.key));
      batch.forEach((b, i) => b.resolve(values[i]!));
    } catch (err) {
      for (const b of batch) b.reject(err);
    } finally {
      this.#inFlight = false;
      void this.#flush();
    }
  }
}
