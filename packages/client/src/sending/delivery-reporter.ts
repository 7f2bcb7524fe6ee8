type Timer = ReturnType<typeof setTimeout>;

/**
 * Reports `conversation:delivered` as messages from others arrive, batched:
 * one report per conversation per `delayMs`, carrying the highest `seq`
 * received, and never a `seq` already reported.
 */
export class DeliveryReporter {
  readonly #emit: (conversationId: string, seq: number) => Promise<void>;
  readonly #delayMs: number;
  readonly #reported = new Map<string, number>();
  readonly #due = new Map<string, number>();
  #timer: Timer | null = null;
  #closed = false;

  /**
   * `emit` sends one report; it resolves once the server answered (even with
   * an error, which a retry would not fix) and rejects when the report was lost.
   */
  constructor(emit: (conversationId: string, seq: number) => Promise<void>, delayMs: number) {
    this.#emit = emit;
    this.#delayMs = delayMs;
  }

  /** This client now holds the message with this `seq`. */
  received(conversationId: string, seq: number): void {
    if (this.#closed) return;
    if (seq <= (this.#reported.get(conversationId) ?? 0) || seq <= (this.#due.get(conversationId) ?? 0)) return;
    this.#due.set(conversationId, seq);
    this.#timer ??= setTimeout(() => this.flush(), this.#delayMs);
  }

  /** Sends what is due now. Reports that are lost are sent again. */
  flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const due = [...this.#due];
    this.#due.clear();
    for (const [conversationId, seq] of due) {
      this.#emit(conversationId, seq).then(
        () => this.#reported.set(conversationId, Math.max(seq, this.#reported.get(conversationId) ?? 0)),
        () => this.received(conversationId, seq),
      );
    }
  }

  /** Stops the timer. */
  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
