import { TYPING_TIMEOUT_MS } from "@parley/protocol";
import type { TypingEmit, TypingTracker } from "./typing-tracker.js";

interface Typist {
  name: string;
  timer: NodeJS.Timeout;
}

/** Typing indicators for a single node, with one timer per typist. */
export class MemoryTypingTracker implements TypingTracker {
  readonly #typists = new Map<string, Typist>();
  readonly #emit: TypingEmit;
  readonly #timeoutMs: number;

  constructor(emit: TypingEmit, timeoutMs: number = TYPING_TIMEOUT_MS) {
    this.#emit = emit;
    this.#timeoutMs = timeoutMs;
  }

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

  clear(conversationId: string, userId: string): void {
    const key = `${conversationId}\n${userId}`;
    const typist = this.#typists.get(key);
    if (!typist) return;
    clearTimeout(typist.timer);
    this.#typists.delete(key);
    this.#emit(conversationId, userId, typist.name, false);
  }

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
