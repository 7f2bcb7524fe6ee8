import type { Presence } from "@parley/protocol";
import { SnapshotStore } from "./readable-store.js";

/** Who is online, for the users some UI is watching. */
export type PresenceSnapshot = ReadonlyMap<string, Presence>;

/**
 * Presence of the users UIs asked about. `watch(userIds)` fetches their
 * presence (`presence:get`) now and after every reconnect; `presence` events
 * keep it current in between.
 */
export class PresenceStore extends SnapshotStore<PresenceSnapshot> {
  readonly #presence = new Map<string, Presence>();
  readonly #watchers = new Map<string, number>();
  readonly #fetch: (userIds: string[]) => void;
  #queued = new Set<string>();
  #flushScheduled = false;

  /** `fetch` asks the server for these users' presence and calls `apply` with the answer. */
  constructor(fetch: (userIds: string[]) => void) {
    super();
    this.#fetch = fetch;
  }

  /**
   * Keeps these users' presence current until the returned function is
   * called. Many watchers of one user share one subscription.
   */
  watch(userIds: readonly string[]): () => void {
    const ids = [...new Set(userIds)];
    for (const id of ids) {
      const n = this.#watchers.get(id) ?? 0;
      this.#watchers.set(id, n + 1);
      if (n === 0) this.#queued.add(id);
    }
    this.#scheduleFlush();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const id of ids) {
        const n = (this.#watchers.get(id) ?? 1) - 1;
        if (n <= 0) this.#watchers.delete(id);
        else this.#watchers.set(id, n);
      }
    };
  }

  /** Fetches every watched user's presence again (after a reconnect). */
  refetch(): void {
    for (const id of this.#watchers.keys()) this.#queued.add(id);
    this.#scheduleFlush();
  }

  /** Applies presence from `presence:get` or a `presence` event. */
  apply(entries: readonly Presence[]): void {
    let changed = false;
    for (const entry of entries) {
      const held = this.#presence.get(entry.userId);
      if (held && held.online === entry.online && held.lastSeenAt === entry.lastSeenAt) continue;
      this.#presence.set(entry.userId, entry);
      changed = true;
    }
    if (changed) this.changed();
  }

  /**
   * Forgets everyone's presence (the connection is lost: it is no longer
   * known, and would go stale unseen); {@link refetch} after the reconnect
   * brings it back.
   */
  forget(): void {
    if (this.#presence.size === 0) return;
    this.#presence.clear();
    this.changed();
  }

  /** One user's presence, when known. */
  get(userId: string): Presence | undefined {
    return this.#presence.get(userId);
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled || this.#queued.size === 0) return;
    this.#flushScheduled = true;
    queueMicrotask(() => {
      this.#flushScheduled = false;
      const ids = [...this.#queued];
      this.#queued = new Set();
      if (ids.length > 0) this.#fetch(ids);
    });
  }

  protected build(): PresenceSnapshot {
    return new Map(this.#presence);
  }
}
