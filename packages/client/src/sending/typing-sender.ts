type Timer = ReturnType<typeof setTimeout>;

/** Timing of typing indicators. */
export interface TypingTiming {
  /** `typing: true` is repeated at most this often while keystrokes continue. */
  intervalMs: number;
  /** `typing: false` goes out after this long without a keystroke. */
  idleMs: number;
}

/**
 * Turns keystrokes into few typing events: `true` on the first keystroke
 * and again at most every `intervalMs` while typing continues (the server
 * forgets a typist 6 s after their last `true`), `false` after `idleMs`
 * without a keystroke or at once when the message is sent.
 */
export class TypingSender {
  readonly #emit: (conversationId: string, typing: boolean) => void;
  readonly #timing: TypingTiming;
  readonly #state = new Map<string, { lastTrue: number; idle: Timer }>();

  constructor(emit: (conversationId: string, typing: boolean) => void, timing: TypingTiming) {
    this.#emit = emit;
    this.#timing = timing;
  }

  /** The user pressed a key in this conversation's composer. */
  keystroke(conversationId: string): void {
    const now = Date.now();
    const state = this.#state.get(conversationId);
    if (state) clearTimeout(state.idle);
    const idle = setTimeout(() => this.stop(conversationId), this.#timing.idleMs);
    if (!state || now - state.lastTrue >= this.#timing.intervalMs) {
      this.#state.set(conversationId, { lastTrue: now, idle });
      this.#emit(conversationId, true);
    } else {
      state.idle = idle;
    }
  }

  /** The user sent, cleared the composer or left: stop showing them as typing. */
  stop(conversationId: string): void {
    const state = this.#state.get(conversationId);
    if (!state) return;
    clearTimeout(state.idle);
    this.#state.delete(conversationId);
    this.#emit(conversationId, false);
  }

  /** Forgets every typing state without telling the server (the connection is gone). */
  reset(): void {
    for (const state of this.#state.values()) clearTimeout(state.idle);
    this.#state.clear();
  }
}
