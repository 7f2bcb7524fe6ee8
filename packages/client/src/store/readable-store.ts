/**
 * A value that changes over time, in the shape React's
 * `useSyncExternalStore` and most other UI bindings expect: `getSnapshot`
 * returns the same object until something changed, and `subscribe` calls the
 * listener after every change.
 */
export interface ReadableStore<T> {
  /** The current value; the same object until it changes, so comparing by identity is enough. */
  getSnapshot(): T;
  /** Calls `listener` after every change; returns the function that unsubscribes. */
  subscribe(listener: () => void): () => void;
}

/**
 * The SDK's base for its stores: subclasses describe their value in
 * `build()`, call `changed()` when it is stale, and batch many changes into
 * one notification with `batch()`.
 */
export abstract class SnapshotStore<T> implements ReadableStore<T> {
  readonly #listeners = new Set<() => void>();
  #snapshot: T | undefined;
  #stale = true;
  #batchDepth = 0;
  #pending = false;

  protected abstract build(): T;

  readonly getSnapshot = (): T => {
    if (this.#stale || this.#snapshot === undefined) {
      this.#snapshot = this.build();
      this.#stale = false;
    }
    return this.#snapshot;
  };

  readonly subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  };

  /** Marks the snapshot stale and tells subscribers (once per batch). */
  protected changed(): void {
    this.#stale = true;
    if (this.#batchDepth > 0) {
      this.#pending = true;
      return;
    }
    this.#notify();
  }

  /** Runs `fn`; subscribers hear about all of its changes once, at the end. */
  batch<R>(fn: () => R): R {
    this.#batchDepth++;
    try {
      return fn();
    } finally {
      this.#batchDepth--;
      if (this.#batchDepth === 0 && this.#pending) {
        this.#pending = false;
        this.#notify();
      }
    }
  }

  #notify(): void {
    for (const listener of [...this.#listeners]) listener();
  }
}
