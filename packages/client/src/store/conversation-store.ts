import { TYPING_TIMEOUT_MS, type Conversation, type Member, type Message } from "@parley/protocol";
import type { ParleyClientError } from "../parley-client-error.js";
import { MessageTimeline } from "./message-timeline.js";
import { SnapshotStore } from "./readable-store.js";

/**
 * Where a message stands, as its sender sees it:
 * `pending` (not acknowledged yet; queued while offline), `failed` (refused;
 * retry or discard it), `sent` (stored: ✓), `delivered` (every other member's
 * client has it: ✓✓), `read` (every other member has read it).
 * Messages from others are always `sent`.
 */
export type MessageStatus = "pending" | "failed" | "sent" | "delivered" | "read";

/** Someone who has read a message, for a "read by" tooltip. */
export interface ReadReceipt {
  userId: string;
  name: string;
  /** When they last moved their read position (it covers this message), if known. */
  at: string | null;
}

/**
 * A message as a UI shows it: a stored message, or one of the user's own
 * sends still waiting for the server (then `id`, `seq` and `revSeq` are `null`).
 */
export interface ChatMessage {
  /** Stable across the whole life of the message (the `clientId` when there is one): use it as the React key. */
  key: string;
  id: string | null;
  conversationId: string;
  seq: number | null;
  revSeq: number | null;
  senderId: string;
  senderName: string;
  type: Message["type"];
  /** `null` once deleted for everyone. Always render as text, never as HTML. */
  text: string | null;
  attachments: Message["attachments"];
  replyTo: string | null;
  metadata: Record<string, unknown>;
  clientId: string | null;
  createdAt: string;
  editedAt: string | null;
  deletedAt: string | null;
  reactions: Record<string, string[]>;
  /** Sent by the signed-in user. */
  own: boolean;
  status: MessageStatus;
  /** Why a `failed` message was refused. */
  error: ParleyClientError | null;
  /** For the user's own stored messages: the other members who have read it. */
  readBy: ReadReceipt[];
}

/** Someone typing in a conversation right now. */
export interface TypingUser {
  userId: string;
  name: string;
}

/** Loading state of a conversation's first page. */
export type LoadState = "idle" | "loading" | "ready" | "error";

/** Everything a UI needs to draw one conversation. */
export interface ConversationSnapshot {
  id: string;
  /** `null` until opened. */
  conversation: Conversation | null;
  members: Member[];
  /** Stored messages ascending by `seq`, then the user's unsent ones in the order they were sent. */
  messages: ChatMessage[];
  status: LoadState;
  /** Why loading, syncing or watching failed (e.g. `forbidden` after being removed). */
  error: ParleyClientError | null;
  /** Older messages exist that `loadOlder()` would fetch. */
  hasOlder: boolean;
  loadingOlder: boolean;
  /**
   * Newer messages exist than those shown: the list was opened away from the
   * newest ones (at the first unread message of a long backlog, see
   * `openAt()`). `loadNewer()` fetches the next page towards them,
   * `jumpToLatest()` shows them at once. The user's unsent messages show
   * only with the newest ones.
   */
  hasNewer: boolean;
  loadingNewer: boolean;
  /** While `hasNewer`: messages from others that arrived since the list was opened away from the newest ones. */
  newerCount: number;
  /** Others typing now (never the user). */
  typing: TypingUser[];
  /** The user's own read position (0 when unknown). */
  lastReadSeq: number;
  /**
   * Messages that replies quote, by id, fetched by `loadQuoted()` because
   * they were older than what was loaded (those held now are left out),
   * for the quote's sender and text; kept up to date by live events.
   */
  quoted: Readonly<Record<string, ChatMessage>>;
}

/** A send that is not stored yet, as the outbox reports it. */
export interface PendingSend {
  clientId: string;
  text: string | null;
  type: Message["type"];
  replyTo: string | null;
  metadata: Record<string, unknown>;
  /** What the user attached, as far as it is known before the server answers (for previews). */
  attachments: Message["attachments"];
  createdAt: string;
  state: "pending" | "failed";
  error: ParleyClientError | null;
}

/** Who the store is drawn for. */
export interface Viewer {
  readonly userId: string | null;
  readonly name: string;
}

type Timer = ReturnType<typeof setTimeout>;

const MAX_LANDED = 1000;

const NO_QUOTED: Readonly<Record<string, ChatMessage>> = Object.freeze({});

/** The local state of one conversation; the client feeds it, UIs read it. */
export class ConversationStore extends SnapshotStore<ConversationSnapshot> {
  readonly id: string;
  readonly timeline = new MessageTimeline();
  readonly #viewer: () => Viewer;
  #conversation: Conversation | null = null;
  readonly #members = new Map<string, Member>();
  readonly #pending = new Map<string, PendingSend>();
  /** `clientId`s already stored: a late outbox update must not bring back a pending copy. */
  readonly #landed = new Set<string>();
  /** Quoted messages fetched because they are not loaded (see `quoted` in the snapshot). */
  readonly #quoted = new Map<string, Message>();
  /** Ids of quoted messages asked for already, found or not. */
  readonly #quotedAsked = new Set<string>();
  readonly #quotedChats = new Map<string, { source: Message; chat: ChatMessage }>();
  #quotedShown: Readonly<Record<string, ChatMessage>> = NO_QUOTED;
  readonly #typing = new Map<string, { name: string; timer: Timer }>();
  #status: LoadState = "idle";
  #error: ParleyClientError | null = null;
  #loadingOlder = false;
  #loadingNewer = false;
  #chatCache = new Map<string, { source: Message; status: MessageStatus; readers: string; chat: ChatMessage }>();

  readonly #baseUrl: string;

  /** `baseUrl` is the server's: attachment URLs it gives as paths are made absolute against it. */
  constructor(id: string, viewer: () => Viewer, baseUrl: string) {
    super();
    this.id = id;
    this.#viewer = viewer;
    this.#baseUrl = baseUrl;
  }

  get conversation(): Conversation | null {
    return this.#conversation;
  }

  get status(): LoadState {
    return this.#status;
  }

  /** The user's own membership, when they are a member. */
  get ownMember(): Member | undefined {
    const me = this.#viewer().userId;
    return me === null ? undefined : this.#members.get(me);
  }

  setStatus(status: LoadState, error: ParleyClientError | null = null): void {
    if (this.#status === status && this.#error === error) return;
    this.#status = status;
    this.#error = error;
    this.changed();
  }

  setLoadingOlder(loading: boolean): void {
    this.#loadingOlder = loading;
    this.changed();
  }

  setLoadingNewer(loading: boolean): void {
    this.#loadingNewer = loading;
    this.changed();
  }

  setConversation(conversation: Conversation): void {
    if (this.#conversation && this.#conversation.lastSeq > conversation.lastSeq) {
      conversation = { ...conversation, lastSeq: this.#conversation.lastSeq };
    }
    this.#conversation = conversation;
    this.changed();
  }

  /** Replaces the member list (after opening), keeping read positions that are further along. */
  setMembers(members: readonly Member[]): void {
    const previous = new Map(this.#members);
    this.#members.clear();
    for (const member of members) {
      const old = previous.get(member.userId);
      this.#members.set(
        member.userId,
        old
          ? {
              ...member,
              lastReadSeq: Math.max(member.lastReadSeq, old.lastReadSeq),
              lastReadAt: member.lastReadSeq >= old.lastReadSeq ? member.lastReadAt : old.lastReadAt,
              lastDeliveredSeq: Math.max(member.lastDeliveredSeq, old.lastDeliveredSeq),
            }
          : member,
      );
    }
    this.changed();
  }

  memberJoined(member: Member): void {
    this.#members.set(member.userId, member);
    this.changed();
  }

  memberLeft(userId: string): void {
    if (this.#members.delete(userId)) this.changed();
  }

  /** A member's read position moved (never backwards). */
  readMoved(userId: string, seq: number, at: string | null): void {
    const member = this.#members.get(userId);
    if (!member || member.lastReadSeq >= seq) return;
    this.#members.set(userId, {
      ...member,
      lastReadSeq: seq,
      lastReadAt: at ?? member.lastReadAt,
      lastDeliveredSeq: Math.max(member.lastDeliveredSeq, seq),
    });
    this.changed();
  }

  /** A member's client reported receiving everything up to `seq`. */
  deliveredMoved(userId: string, seq: number): void {
    const member = this.#members.get(userId);
    if (!member || member.lastDeliveredSeq >= seq) return;
    this.#members.set(userId, { ...member, lastDeliveredSeq: seq });
    this.changed();
  }

  /** Applies a message from the server (live, ack, sync or history); `live` advances the sync cursor. */
  applyMessage(message: Message, live: boolean): void {
    const changedTimeline = this.timeline.apply(message);
    if (live) this.timeline.noteLive(message.revSeq);
    const changedQuote = this.#applyQuoted(message);
    let changed = changedTimeline || changedQuote;
    if (message.clientId !== null && message.senderId === this.#viewer().userId) {
      this.#landed.add(message.clientId);
      // Only sends still in the outbox can come back; forget the oldest.
      if (this.#landed.size > MAX_LANDED) this.#landed.delete(this.#landed.values().next().value!);
      if (this.#pending.delete(message.clientId)) changed = true;
    }
    if (message.seq === message.revSeq && this.#typing.has(message.senderId)) {
      this.#clearTyping(message.senderId);
      changed = true;
    }
    if (this.#conversation && message.revSeq > this.#conversation.lastSeq) {
      const isNew = message.seq === message.revSeq;
      this.#conversation = {
        ...this.#conversation,
        lastSeq: message.revSeq,
        lastMessageAt: isNew ? message.createdAt : this.#conversation.lastMessageAt,
      };
      changed = true;
    }
    if (changed) this.changed();
  }

  /** Applies a page of history (see {@link MessageTimeline.applyPage}). */
  applyPage(messages: readonly Message[], hasMore: boolean): void {
    this.batch(() => {
      this.timeline.applyPage(messages, hasMore);
      for (const message of messages) this.applyMessage(message, false);
      this.changed();
    });
  }

  /** Shows a page away from the newest messages (see {@link MessageTimeline.openAt}). */
  openAt(messages: readonly Message[], hasMore: boolean, beforeSeq: number): void {
    this.batch(() => {
      this.timeline.openAt(messages, hasMore, beforeSeq);
      for (const message of messages) this.applyMessage(message, false);
      this.changed();
    });
  }

  /** Applies a page towards the newest messages (see {@link MessageTimeline.applyNewer}). */
  applyNewer(messages: readonly Message[], beforeSeq: number): void {
    this.batch(() => {
      this.timeline.applyNewer(messages, beforeSeq);
      for (const message of messages) this.applyMessage(message, false);
      this.changed();
    });
  }

  /** Shows the newest messages, dropping a window opened away from them. */
  jumpToLatest(): void {
    if (this.timeline.jumpToLatest()) this.changed();
  }

  /**
   * The ids of messages that replies on show quote and that are neither
   * loaded nor asked for yet; they count as asked for from now on.
   */
  takeMissingQuoted(): string[] {
    const missing: string[] = [];
    let held: Set<string> | null = null;
    for (const message of this.timeline.messages) {
      const id = message.replyTo;
      if (id === null || this.#quotedAsked.has(id) || (held ??= this.timeline.heldIds()).has(id)) continue;
      this.#quotedAsked.add(id);
      missing.push(id);
    }
    return missing;
  }

  /** Quoted messages fetched for {@link takeMissingQuoted}; `failed` ids may be asked for again. */
  addQuoted(messages: readonly Message[], failed: readonly string[] = []): void {
    for (const id of failed) this.#quotedAsked.delete(id);
    let changed = false;
    for (const message of messages) changed = this.#applyQuoted(message, true) || changed;
    if (changed) this.changed();
  }

  /** The snapshot's `quoted`: the same object while what it holds is the same. */
  #quotedOnShow(viewer: Viewer): Readonly<Record<string, ChatMessage>> {
    if (this.#quoted.size === 0) return (this.#quotedShown = NO_QUOTED);
    const held = this.timeline.heldIds();
    const shown: Record<string, ChatMessage> = {};
    let same = true;
    let count = 0;
    for (const [id, message] of this.#quoted) {
      if (held.has(id)) continue;
      let cached = this.#quotedChats.get(id);
      if (cached?.source !== message) {
        const own = message.senderId === viewer.userId && message.type !== "system";
        cached = { source: message, chat: toChat(message, own, "sent", [], this.#baseUrl) };
        this.#quotedChats.set(id, cached);
      }
      shown[id] = cached.chat;
      count++;
      if (this.#quotedShown[id] !== cached.chat) same = false;
    }
    if (same && count === Object.keys(this.#quotedShown).length) return this.#quotedShown;
    return (this.#quotedShown = shown);
  }

  #applyQuoted(message: Message, fetched = false): boolean {
    const held = this.#quoted.get(message.id);
    if (!held && !fetched) return false;
    if (message.hidden) {
      this.#quotedChats.delete(message.id);
      return this.#quoted.delete(message.id);
    }
    if (held && held.revSeq >= message.revSeq) return false;
    this.#quoted.set(message.id, message);
    return true;
  }

  /** Hides a message the user deleted "for me" without waiting for the server's event. */
  hideLocally(messageId: string): void {
    const message = this.timeline.byId(messageId);
    if (message && this.timeline.hide(message.seq)) this.changed();
  }

  /** Shows (or updates) one of the user's unsent messages. */
  setPending(send: PendingSend): void {
    if (this.#landed.has(send.clientId)) return;
    this.#pending.set(send.clientId, send);
    this.changed();
  }

  /** Drops an unsent message the user discarded. */
  removePending(clientId: string): void {
    if (this.#pending.delete(clientId)) this.changed();
  }

  /** Someone started or stopped typing; a start expires on its own if the stop never comes. */
  setTyping(userId: string, name: string, typing: boolean): void {
    if (userId === this.#viewer().userId) return;
    if (!typing) {
      if (this.#typing.has(userId)) {
        this.#clearTyping(userId);
        this.changed();
      }
      return;
    }
    const current = this.#typing.get(userId);
    if (current) clearTimeout(current.timer);
    const timer = setTimeout(() => {
      this.#typing.delete(userId);
      this.changed();
    }, TYPING_TIMEOUT_MS + 1000);
    this.#typing.set(userId, { name, timer });
    this.changed();
  }

  /** Forgets who is typing (the connection dropped: those events will not come). */
  clearTyping(): void {
    if (this.#typing.size === 0) return;
    for (const userId of [...this.#typing.keys()]) this.#clearTyping(userId);
    this.changed();
  }

  #clearTyping(userId: string): void {
    const entry = this.#typing.get(userId);
    if (entry) clearTimeout(entry.timer);
    this.#typing.delete(userId);
  }

  /** Stops timers; the store is not used afterwards. */
  dispose(): void {
    for (const entry of this.#typing.values()) clearTimeout(entry.timer);
    this.#typing.clear();
  }

  /**
   * How many messages from others after `seq` this store holds, when it
   * holds every message after `seq`; `null` when it cannot tell.
   */
  countFromOthersAfter(seq: number): number | null {
    const floor = this.timeline.oldestSeq;
    if (!this.timeline.loaded || (this.timeline.hasOlder && (floor === null || floor > seq + 1))) return null;
    // The newest messages are held apart from those on show: the server counts.
    if (this.timeline.hasNewer) return null;
    const me = this.#viewer().userId;
    return this.timeline.messages.filter((m) => m.seq > seq && m.senderId !== me && m.deletedAt === null).length;
  }

  protected build(): ConversationSnapshot {
    const viewer = this.#viewer();
    const others = [...this.#members.values()].filter((m) => m.userId !== viewer.userId);
    const nextCache = new Map<string, { source: Message; status: MessageStatus; readers: string; chat: ChatMessage }>();
    const messages: ChatMessage[] = [];
    for (const message of this.timeline.messages) {
      const own = message.senderId === viewer.userId && message.type !== "system";
      const readers = own ? others.filter((m) => m.lastReadSeq >= message.seq) : [];
      const status = own ? statusOf(message.seq, others, readers.length) : "sent";
      const readerKey = readers.map((r) => r.userId).join("\n");
      const key = message.clientId ?? message.id;
      const cached = this.#chatCache.get(key);
      const chat =
        cached && cached.source === message && cached.status === status && cached.readers === readerKey
          ? cached.chat
          : toChat(message, own, status, readers, this.#baseUrl);
      nextCache.set(key, { source: message, status, readers: readerKey, chat });
      messages.push(chat);
    }
    this.#chatCache = nextCache;
    // Unsent messages go after the newest ones, not after a window of older ones.
    if (!this.timeline.hasNewer) for (const send of this.#pending.values()) messages.push(pendingChat(this.id, send, viewer, this.#baseUrl));
    return {
      id: this.id,
      conversation: this.#conversation,
      members: [...this.#members.values()],
      messages,
      status: this.#status,
      error: this.#error,
      hasOlder: this.timeline.hasOlder,
      loadingOlder: this.#loadingOlder,
      hasNewer: this.timeline.hasNewer,
      loadingNewer: this.#loadingNewer,
      newerCount: this.timeline.arrivedAbove.filter((m) => m.senderId !== viewer.userId && m.type !== "system" && m.deletedAt === null).length,
      typing: [...this.#typing].map(([userId, { name }]) => ({ userId, name })),
      lastReadSeq: this.ownMember?.lastReadSeq ?? 0,
      quoted: this.#quotedOnShow(viewer),
    };
  }
}

function statusOf(seq: number, others: readonly Member[], readCount: number): MessageStatus {
  if (others.length === 0) return "sent";
  if (readCount === others.length) return "read";
  if (others.every((m) => Math.max(m.lastDeliveredSeq, m.lastReadSeq) >= seq)) return "delivered";
  return "sent";
}

/**
 * Attachments with URLs a page on another origin can load: the server gives
 * paths (`/v1/uploads/…`) unless it knows its public URL.
 */
function absoluteAttachments(attachments: Message["attachments"], baseUrl: string): Message["attachments"] {
  if (attachments.every((a) => !a.url.startsWith("/"))) return attachments;
  return attachments.map((a) => (a.url.startsWith("/") ? { ...a, url: new URL(a.url, baseUrl).toString() } : a));
}

function toChat(message: Message, own: boolean, status: MessageStatus, readers: readonly Member[], baseUrl: string): ChatMessage {
  return {
    key: message.clientId ?? message.id,
    id: message.id,
    conversationId: message.conversationId,
    seq: message.seq,
    revSeq: message.revSeq,
    senderId: message.senderId,
    senderName: message.senderName,
    type: message.type,
    text: message.text,
    attachments: absoluteAttachments(message.attachments, baseUrl),
    replyTo: message.replyTo,
    metadata: message.metadata,
    clientId: message.clientId,
    createdAt: message.createdAt,
    editedAt: message.editedAt,
    deletedAt: message.deletedAt,
    reactions: message.reactions,
    own,
    status,
    error: null,
    readBy: readers.map((m) => ({ userId: m.userId, name: m.name, at: m.lastReadAt })),
  };
}

function pendingChat(conversationId: string, send: PendingSend, viewer: Viewer, baseUrl: string): ChatMessage {
  return {
    key: send.clientId,
    id: null,
    conversationId,
    seq: null,
    revSeq: null,
    senderId: viewer.userId ?? "",
    senderName: viewer.name,
    type: send.type,
    text: send.text,
    attachments: absoluteAttachments(send.attachments, baseUrl),
    replyTo: send.replyTo,
    metadata: send.metadata,
    clientId: send.clientId,
    createdAt: send.createdAt,
    editedAt: null,
    deletedAt: null,
    reactions: {},
    own: true,
    status: send.state,
    error: send.error,
    readBy: [],
  };
}
