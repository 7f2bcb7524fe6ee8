import { TYPING_TIMEOUT_MS } from "@parley/protocol";

type Emit = (conversationId: string, userId: string, name: string, typing: boolean) => void;

interface Typist {
  name: string;
  timer: NodeJS.Timeout;
}

/**
 * Who is typing where. Announces changes and, when a typist goes quiet (or
 * vanishes), announces `typing: false` itself after the timeout.
 */
export class TypingTracker {
  readonly #typists = new Map<string, Typist>();
  readonly #emit: Emit;
  readonly #timeoutMs: number;

  constructor(emit: Emit, timeoutMs: number = TYPING_TIMEOUT_MS) {
    this.#emit = emit;
    this.#timeoutMs = timeoutMs;
  }

  /** Records a `typing` event from a user. */
  set(conversationId: string, userId: string, name: string, typing: boolean): void {
    if (!typing) {
      this.clear(conversationId, userId);
      return;
    }
    const key = `${conversationId}\n${userId}`;
    const existing = this.#typists.get(key);
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => this.clear(conversationId, userId), this.#timeoutMs);
    timer.unref();
    this.#typists.set(key, { name, timer });
    if (!existing) this.#emit(conversationId, userId, name, true);
  }

  /** Ends a typist's indicator (they sent, stopped, or timed out). */
  clear(conversationId: string, userId: string): void {
    const key = `${conversationId}\n${userId}`;
    const typist = this.#typists.get(key);
    if (!typist) return;
    clearTimeout(typist.timer);
    this.#typists.delete(key);
    this.#emit(conversationId, userId, typist.name, false);
  }

  /** Ends every indicator of a user (their last socket went away). */
  clearUser(userId: string): void {
    for (const key of [...this.#typists.keys()]) {
      const [conversationId, typistId] = key.split("\n") as [string, string];
      if (typistId === userId) this.clear(conversationId, userId);
    }
  }

  close(): void {
    for (const typist of this.#typists.values()) clearTimeout(typist.timer);
    this.#typists.clear();
  }
}
