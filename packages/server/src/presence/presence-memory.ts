import type { PresenceStore } from "./presence-store.js";

/** Presence for a single node: socket ids per user, in memory. */
export class MemoryPresence implements PresenceStore {
  readonly #sockets = new Map<string, Set<string>>();

  async connect(userId: string, socketId: string): Promise<boolean> {
    let sockets = this.#sockets.get(userId);
    if (!sockets) {
      sockets = new Set();
      this.#sockets.set(userId, sockets);
    }
    const first = sockets.size === 0;
    sockets.add(socketId);
    return first;
  }

  async disconnect(userId: string, socketId: string): Promise<boolean> {
    const sockets = this.#sockets.get(userId);
    if (!sockets?.delete(socketId)) return false;
    if (sockets.size > 0) return false;
    this.#sockets.delete(userId);
    return true;
  }

  async online(userIds: readonly string[]): Promise<Set<string>> {
    return new Set(userIds.filter((id) => (this.#sockets.get(id)?.size ?? 0) > 0));
  }

  /** A single node cannot outlive itself: nothing ever lapses. */
  onLapsed(): void {}

  async close(): Promise<void> {
    this.#sockets.clear();
  }
}
