import type { Message } from "@parley/protocol";

/** Changes to messages outside what is loaded kept at most (see `#outside`). */
const MAX_OUTSIDE = 1000;

/**
 * The stored messages of one conversation, keyed by `seq`, and the sync
 * cursor: the `revSeq` up to which every change has been seen.
 *
 * Whatever the source (a live event, an ack, a sync or history page), a
 * message is applied only when its `revSeq` is newer than the copy held, so
 * applying the same change twice, or an old copy after a new one, changes
 * nothing. That is what lets live events and a running sync interleave.
 */
export class MessageTimeline {
  readonly #bySeq = new Map<number, Message>();
  /** Messages this user deleted "for me": never shown again, whatever arrives later. */
  readonly #hidden = new Set<number>();
  #cursor: number | null = null;
  /** Messages below this `seq` are not loaded yet (history paging fetches them); `null` before the first page. */
  #floor: number | null = null;
  /**
   * Messages with `seq` in `[from, to]` are not loaded: the window was opened
   * away from the newest messages ({@link openAt}). Those below the gap are
   * shown; those above it (the newest page and what arrived since, kept
   * up to date) are held for when the reader gets there.
   */
  #gap: { from: number; to: number } | null = null;
  /** While there is a gap: the first `seq` after the newest held when it opened (what arrived since starts here). */
  #arrivedFrom = 0;
  /**
   * The newest copy of each message changed live while it was outside what
   * is loaded (below the floor or in the gap), at most
   * {@link MAX_OUTSIDE}: a page requested before the change may bring an
   * older copy, and this one then wins.
   */
  readonly #outside = new Map<number, Message>();
  #generation = 0;
  /** Live `revSeq`s above the cursor; the cursor advances through them while they are contiguous. */
  readonly #seenAbove = new Set<number>();
  #sorted: Message[] | null = [];

  /** Every change with `revSeq <= cursor` has been applied; `null` until the first page is loaded. */
  get cursor(): number | null {
    return this.#cursor;
  }

  /** The stored messages on show, ascending by `seq`: all of them, or those below the gap while there is one. */
  get messages(): readonly Message[] {
    if (this.#sorted === null) {
      const gap = this.#gap;
      const held = [...this.#bySeq.values()];
      this.#sorted = (gap ? held.filter((m) => m.seq < gap.from) : held).sort((a, b) => a.seq - b.seq);
    }
    return this.#sorted;
  }

  /** `true` while newer messages exist than those on show (the window was opened away from the newest, see {@link openAt}). */
  get hasNewer(): boolean {
    return this.#gap !== null;
  }

  /** While {@link hasNewer}: the messages that arrived after the window was opened, out of sight above it; else none. */
  get arrivedAbove(): Message[] {
    if (!this.#gap) return [];
    return [...this.#bySeq.values()].filter((m) => m.seq >= this.#arrivedFrom);
  }

  /** The first `seq` that is not loaded above the messages on show, while {@link hasNewer}. */
  get gapStart(): number | null {
    return this.#gap?.from ?? null;
  }

  /** The last `seq` that is not loaded above the messages on show, while {@link hasNewer}. */
  get gapEnd(): number | null {
    return this.#gap?.to ?? null;
  }

  /** `true` while older messages exist that are not loaded yet. */
  get hasOlder(): boolean {
    return this.#floor !== null && this.#floor > 0;
  }

  /** Messages below this `seq` are not loaded yet (0 when everything is). */
  get floor(): number {
    return this.#floor ?? 0;
  }

  /** Hides a message the user deleted "for me", before the server's event arrives. */
  hide(seq: number): boolean {
    this.#hidden.add(seq);
    if (!this.#bySeq.delete(seq)) return false;
    this.#sorted = null;
    return true;
  }

  /** `true` once a first page was loaded. */
  get loaded(): boolean {
    return this.#floor !== null;
  }

  /** The lowest `seq` held, or `null` when empty. */
  get oldestSeq(): number | null {
    return this.messages[0]?.seq ?? null;
  }

  /** The highest `seq` held, or `null` when empty. */
  get newestSeq(): number | null {
    const list = this.messages;
    return list[list.length - 1]?.seq ?? null;
  }

  get(seq: number): Message | undefined {
    return this.#bySeq.get(seq);
  }

  /** The ids of every message held, on show or above the gap. */
  heldIds(): Set<string> {
    const ids = new Set<string>();
    for (const message of this.#bySeq.values()) ids.add(message.id);
    return ids;
  }

  /** Finds a stored message by id. */
  byId(id: string): Message | undefined {
    for (const message of this.#bySeq.values()) if (message.id === id) return message;
    return undefined;
  }

  /**
   * Applies one message as the server sent it. Returns `true` when the
   * visible timeline changed.
   */
  apply(message: Message): boolean {
    const { seq, revSeq } = message;
    if (this.#hidden.has(seq) && !message.hidden) return false;
    // A change to a message older than the loaded window would show it out
    // of context; history paging fetches its current copy later.
    // Nor is a message in the gap shown: paging towards the newest fetches it.
    if (!this.#loadedAt(seq)) {
      if (message.hidden) this.#hidden.add(seq);
      else this.#keepOutside(message);
      return false;
    }
    const held = this.#bySeq.get(seq);
    if (message.hidden) {
      this.#hidden.add(seq);
      if (!held) return false;
      this.#bySeq.delete(seq);
      this.#sorted = null;
      return true;
    }
    if (held && held.revSeq >= revSeq) return false;
    this.#bySeq.set(seq, message);
    if (!held) this.#sorted = null;
    else if (this.#sorted) this.#sorted = this.#sorted.map((m) => (m.seq === seq ? message : m));
    return true;
  }

  /** `true` when a message with this `seq` would be among those loaded: not below the floor, not in the gap. */
  #loadedAt(seq: number): boolean {
    if (this.#floor !== null && seq < this.#floor) return false;
    return !(this.#gap && seq >= this.#gap.from && seq <= this.#gap.to);
  }

  #keepOutside(message: Message): void {
    const kept = this.#outside.get(message.seq);
    if (kept && kept.revSeq >= message.revSeq) return;
    this.#outside.delete(message.seq);
    this.#outside.set(message.seq, message);
    if (this.#outside.size > MAX_OUTSIDE) this.#outside.delete(this.#outside.keys().next().value!);
  }

  /** After a page: the changes that arrived while its messages were outside what was loaded. */
  #applyKeptOutside(): void {
    for (const [seq, message] of this.#outside) {
      if (!this.#loadedAt(seq)) continue;
      this.#outside.delete(seq);
      this.apply(message);
    }
  }

  /**
   * Counts the replacements of the messages on show by another window
   * ({@link openAt} away from them, {@link jumpToLatest}): a page
   * requested before one of them no longer belongs where it was asked for.
   */
  get generation(): number {
    return this.#generation;
  }

  /**
   * Applies a page of history (the newest page when opening, or an older
   * one): its messages are contiguous by `seq`, and `hasMore` says whether
   * older ones exist.
   */
  applyPage(messages: readonly Message[], hasMore: boolean): void {
    const pageFloor = hasMore ? (messages[0]?.seq ?? this.#floor ?? 0) : 0;
    if (this.#floor === null || pageFloor < this.#floor) {
      this.#floor = pageFloor;
      for (const seq of this.#bySeq.keys()) {
        if (seq < pageFloor) this.#bySeq.delete(seq);
      }
      this.#sorted = null;
    }
    for (const message of messages) this.apply(message);
    this.#applyKeptOutside();
  }

  /**
   * Shows the page of history that ends just before `beforeSeq` (fetched
   * with it) instead of the messages on show: a window opened away from the
   * newest messages, e.g. at the first unread message of a long backlog.
   * The newest messages stay held above a gap, kept up to date by live
   * events and sync, and {@link loadNewer} pages towards them. A page that
   * reaches what is already loaded just joins it (no gap).
   */
  openAt(messages: readonly Message[], hasMore: boolean, beforeSeq: number): void {
    // Where the held messages that reach the newest begin: above the gap, or the whole of them.
    const upper = this.#gap ? this.#gap.to + 1 : (this.#floor ?? 0);
    if (beforeSeq >= upper) {
      this.jumpToLatest();
      this.applyPage(messages, hasMore);
      return;
    }
    if (!this.#gap) {
      let newest = upper;
      for (const seq of this.#bySeq.keys()) if (seq > newest) newest = seq;
      this.#arrivedFrom = newest + 1;
    }
    for (const seq of this.#bySeq.keys()) if (seq < upper) this.#bySeq.delete(seq);
    this.#floor = hasMore ? (messages[0]?.seq ?? beforeSeq) : 0;
    this.#gap = { from: beforeSeq, to: upper - 1 };
    this.#generation++;
    this.#sorted = null;
    for (const message of messages) this.apply(message);
    this.#applyKeptOutside();
  }

  /**
   * Applies a page towards the newest messages, fetched with `beforeSeq`
   * (at most a page above the gap's start): every message below `beforeSeq`
   * is loaded now, and when that closes the gap, the held newest messages
   * show after them.
   */
  applyNewer(messages: readonly Message[], beforeSeq: number): void {
    const gap = this.#gap;
    if (!gap || beforeSeq <= gap.from) return;
    this.#gap = beforeSeq > gap.to ? null : { from: beforeSeq, to: gap.to };
    this.#sorted = null;
    for (const message of messages) this.apply(message);
    this.#applyKeptOutside();
  }

  /** Drops the window below the gap and shows the newest messages (held all along). */
  jumpToLatest(): boolean {
    const gap = this.#gap;
    if (!gap) return false;
    for (const seq of this.#bySeq.keys()) if (seq < gap.from) this.#bySeq.delete(seq);
    this.#floor = gap.to + 1;
    this.#gap = null;
    this.#generation++;
    this.#sorted = null;
    return true;
  }

  /**
   * Records that the change with this `revSeq` arrived live. Live events come
   * in order on one connection, but the server may skip numbers this user is
   * not told about (another user's "delete for me"); the cursor then stops
   * there, and the next sync fetches a little more than needed, never less.
   */
  noteLive(revSeq: number): void {
    if (this.#cursor === null || revSeq <= this.#cursor) return;
    this.#seenAbove.add(revSeq);
    this.#advance();
  }

  /** A sync reached the conversation's `lastSeq`: everything up to it has been seen. */
  syncedTo(lastSeq: number): void {
    if (this.#cursor !== null && lastSeq <= this.#cursor) return;
    this.#cursor = lastSeq;
    for (const rev of this.#seenAbove) if (rev <= lastSeq) this.#seenAbove.delete(rev);
    this.#advance();
  }

  #advance(): void {
    if (this.#cursor === null) return;
    while (this.#seenAbove.has(this.#cursor + 1)) {
      this.#seenAbove.delete(this.#cursor + 1);
      this.#cursor += 1;
    }
  }
}
