import type { Conversation, ConversationPage, ConversationSummary, Member, Message, SessionInfo } from "@parley/protocol";
import type { ParleyClientError } from "../parley-client-error.js";
import type { LoadState } from "./conversation-store.js";
import { SnapshotStore } from "./readable-store.js";

/** The user's conversation list, as a UI shows it. */
export interface InboxSnapshot {
  status: LoadState;
  error: ParleyClientError | null;
  /** Most recent activity first, each with its live `unreadCount` and `lastMessage`. */
  conversations: ConversationSummary[];
  /** More (older) conversations exist that `loadMore()` would fetch. */
  hasMore: boolean;
  loadingMore: boolean;
  /** Unread messages across every conversation the user is a member of. */
  totalUnread: number;
}

/** One conversation's unread count and what it is based on. */
interface UnreadCount {
  unread: number;
  /** Every message with `seq <= through` is accounted for in `unread`. */
  through: number;
  /** The user's read position, when known. */
  lastReadSeq: number | null;
  /** Messages counted live since the last authoritative count (their `seq`s). */
  live: number[];
  /** Unread messages already taken off the count because they were deleted. */
  discounted: Set<number>;
}

const MAX_LIVE = 500;

/**
 * The inbox and unread counts. Counts come from the server (the `session`
 * event at every connect, and every `conversation:list` page) and are then
 * kept by counting live messages from others. A message counted live and
 * also included in a later server count is not counted twice, and a message
 * fetched by a sync after a reconnect is never counted: the `session` count
 * already includes it.
 */
/**
 * Whether a live message from someone else adds to the user's unread count,
 * as the server counts: in a support conversation that is not the user's own
 * (an operator's), only the visitor's messages do (not other operators'
 * answers, nor the notices of their joining). The visitor is the member who
 * joined first (a summary lists its members in the order they joined): the
 * one who opened it.
 */
function countsAsUnread(entry: ConversationSummary | undefined, message: Message, me: string | null): boolean {
  if (entry?.kind !== "support") return true;
  const visitor = entry.members[0]?.userId;
  if (visitor === undefined || visitor === me) return true;
  return message.senderId === visitor;
}

export class InboxStore extends SnapshotStore<InboxSnapshot> {
  readonly #entries = new Map<string, ConversationSummary>();
  readonly #counts = new Map<string, UnreadCount>();
  #status: LoadState = "idle";
  #error: ParleyClientError | null = null;
  #cursor: string | null = null;
  #loadingMore = false;
  #loaded = false;

  /** `true` once a first page was loaded (the inbox is shown somewhere). */
  get loaded(): boolean {
    return this.#loaded;
  }

  get cursor(): string | null {
    return this.#cursor;
  }

  has(conversationId: string): boolean {
    return this.#entries.has(conversationId);
  }

  /** The kind of a conversation the inbox shows (null when it shows none with this id). */
  kindOf(conversationId: string): ConversationSummary["kind"] | null {
    return this.#entries.get(conversationId)?.kind ?? null;
  }

  /** The unread count for one conversation (0 when unknown). */
  unreadOf(conversationId: string): number {
    return this.#counts.get(conversationId)?.unread ?? 0;
  }

  setStatus(status: LoadState, error: ParleyClientError | null = null): void {
    this.#status = status;
    this.#error = error;
    this.changed();
  }

  setLoadingMore(loading: boolean): void {
    this.#loadingMore = loading;
    this.changed();
  }

  /** Applies a page of `conversation:list`; `first` replaces what the first page said before. */
  applyPage(page: ConversationPage, first: boolean): void {
    this.batch(() => {
      for (const row of page.conversations) {
        this.#entries.set(row.id, row);
        this.#authoritative(row.id, row.unreadCount, row.lastSeq);
      }
      // Fetching the first page again must not lose the place of pages loaded after it.
      if (!first || !this.#loaded) this.#cursor = page.nextCursor;
      this.#loaded = true;
      this.#status = "ready";
      this.#error = null;
      this.changed();
    });
  }

  /** The `session` event: the server's unread count for every conversation the user is a member of. */
  applySession(session: SessionInfo): void {
    this.batch(() => {
      for (const { id, lastSeq, unread } of session.conversations) {
        this.#authoritative(id, unread, lastSeq);
        const entry = this.#entries.get(id);
        if (entry && entry.lastSeq < lastSeq) this.#entries.set(id, { ...entry, lastSeq });
      }
      this.changed();
    });
  }

  /** Whether the session lists conversations this inbox has never shown. */
  missingFrom(session: SessionInfo): boolean {
    return session.conversations.some((c) => !this.#entries.has(c.id));
  }

  #authoritative(id: string, unread: number, lastSeq: number): void {
    const current = this.#counts.get(id);
    const live = (current?.live ?? []).filter((seq) => seq > lastSeq);
    this.#counts.set(id, {
      unread: unread + live.length,
      through: Math.max(lastSeq, ...live),
      lastReadSeq: current?.lastReadSeq ?? null,
      live,
      discounted: new Set([...(current?.discounted ?? [])].filter((seq) => seq > lastSeq)),
    });
  }

  /**
   * A message arrived. `live` messages from others count as unread; messages
   * fetched by a sync or a page do not (the server's count has them).
   * Returns `true` when the inbox does not know the conversation (the caller
   * may want to fetch the list again).
   */
  messageArrived(message: Message, me: string | null, live: boolean): boolean {
    const id = message.conversationId;
    const entry = this.#entries.get(id);
    if (entry && !message.hidden && (!entry.lastMessage || entry.lastMessage.seq <= message.seq)) {
      const isNew = entry.lastMessage?.seq !== message.seq;
      this.#entries.set(id, {
        ...entry,
        lastMessage: message,
        lastMessageAt: message.createdAt,
        lastSeq: Math.max(entry.lastSeq, message.revSeq),
        // A new last message of the user's own starts at ✓ (channels share no read state).
        lastMessageStatus: !isNew
          ? entry.lastMessageStatus
          : message.senderId === me && message.type !== "system" && entry.kind !== "channel"
            ? "sent"
            : null,
      });
    }
    if (live && message.senderId !== me && message.deletedAt === null && !message.hidden && countsAsUnread(entry, message, me)) {
      const count = this.#counts.get(id) ?? { unread: 0, through: 0, lastReadSeq: null, live: [], discounted: new Set() };
      if (message.seq > count.through && (count.lastReadSeq === null || message.seq > count.lastReadSeq)) {
        count.unread += 1;
        count.through = message.seq;
        count.live.push(message.seq);
        if (count.live.length > MAX_LIVE) count.live.shift();
      }
      this.#counts.set(id, count);
    }
    this.changed();
    return !entry;
  }

  /**
   * A message was edited, reacted to or deleted. Returns `true` when the
   * unread count may now be off and should be fetched again.
   */
  messageChanged(message: Message, me: string | null): boolean {
    const id = message.conversationId;
    const entry = this.#entries.get(id);
    let stale = false;
    if (entry?.lastMessage?.seq === message.seq) {
      if (message.hidden) stale = true;
      else this.#entries.set(id, { ...entry, lastMessage: message });
    }
    const gone = message.deletedAt !== null || message.hidden === true;
    const count = this.#counts.get(id);
    if (gone && count && message.senderId !== me && message.seq <= count.through && !count.discounted.has(message.seq)) {
      if (count.lastReadSeq === null) stale ||= count.unread > 0;
      else if (message.seq > count.lastReadSeq && count.unread > 0) {
        count.unread -= 1;
        count.discounted.add(message.seq);
      }
    }
    this.changed();
    return stale;
  }

  /**
   * Another member received (`delivered`) or read up to `seq`. In a direct
   * conversation that settles the status of the user's own last message;
   * elsewhere every other member must have got there, which only the server
   * knows: returns `true` when the list should be fetched again.
   */
  othersMoved(conversationId: string, seq: number, how: "delivered" | "read"): boolean {
    const entry = this.#entries.get(conversationId);
    const last = entry?.lastMessage;
    if (!entry || !last || entry.lastMessageStatus === null || entry.lastMessageStatus === "read" || seq < last.seq) return false;
    if (entry.kind !== "direct") return true;
    if (how === "delivered" && entry.lastMessageStatus === "delivered") return false;
    this.#entries.set(conversationId, { ...entry, lastMessageStatus: how });
    this.changed();
    return false;
  }

  /**
   * The user's read position moved (here or on another device). `exact` is
   * the number of unread messages after it when the caller can count them.
   * Returns `true` when the count could not be worked out.
   */
  readMoved(conversationId: string, seq: number, exact: number | null): boolean {
    const count = this.#counts.get(conversationId) ?? { unread: 0, through: 0, lastReadSeq: null, live: [], discounted: new Set() };
    count.lastReadSeq = Math.max(count.lastReadSeq ?? 0, seq);
    let stale = false;
    if (seq >= count.through) {
      count.unread = 0;
      count.live = [];
    } else if (exact !== null) {
      count.unread = exact;
      count.live = count.live.filter((s) => s > seq);
    } else {
      stale = true;
    }
    this.#counts.set(conversationId, count);
    this.changed();
    return stale;
  }

  /** The user's read position as the server reported it when a conversation was opened. */
  knowReadPosition(conversationId: string, seq: number): void {
    const count = this.#counts.get(conversationId);
    if (count && (count.lastReadSeq === null || count.lastReadSeq < seq)) count.lastReadSeq = seq;
  }

  conversationChanged(conversation: Conversation): void {
    const entry = this.#entries.get(conversation.id);
    if (!entry) return;
    this.#entries.set(conversation.id, {
      ...entry,
      ...conversation,
      lastSeq: Math.max(entry.lastSeq, conversation.lastSeq),
      lastMessageAt: entry.lastMessageAt && conversation.lastMessageAt && entry.lastMessageAt > conversation.lastMessageAt ? entry.lastMessageAt : conversation.lastMessageAt,
    });
    this.changed();
  }

  /** Someone joined a conversation of the inbox (an operator answering a visitor, say): its row's members follow. */
  memberJoined(conversationId: string, member: Pick<Member, "userId" | "name" | "role">): void {
    const entry = this.#entries.get(conversationId);
    // A channel's row lists no members (it may have thousands).
    if (!entry || entry.kind === "channel" || entry.members.some((m) => m.userId === member.userId)) return;
    this.#entries.set(conversationId, { ...entry, members: [...entry.members, { userId: member.userId, name: member.name, role: member.role }] });
    this.changed();
  }

  /** Someone else left a conversation of the inbox. */
  memberLeft(conversationId: string, userId: string): void {
    const entry = this.#entries.get(conversationId);
    if (!entry || !entry.members.some((m) => m.userId === userId)) return;
    this.#entries.set(conversationId, { ...entry, members: entry.members.filter((m) => m.userId !== userId) });
    this.changed();
  }

  /** The user left or was removed. */
  remove(conversationId: string): void {
    this.#entries.delete(conversationId);
    this.#counts.delete(conversationId);
    this.changed();
  }

  protected build(): InboxSnapshot {
    const conversations = [...this.#entries.values()]
      .map((entry) => {
        const count = this.#counts.get(entry.id);
        return count && count.unread !== entry.unreadCount ? { ...entry, unreadCount: count.unread } : entry;
      })
      .sort(byActivity);
    let totalUnread = 0;
    for (const count of this.#counts.values()) totalUnread += count.unread;
    return {
      status: this.#status,
      error: this.#error,
      conversations,
      hasMore: this.#cursor !== null,
      loadingMore: this.#loadingMore,
      totalUnread,
    };
  }
}

function byActivity(a: ConversationSummary, b: ConversationSummary): number {
  const at = a.lastMessageAt ?? a.createdAt;
  const bt = b.lastMessageAt ?? b.createdAt;
  if (at !== bt) return at < bt ? 1 : -1;
  return a.id < b.id ? 1 : -1;
}
