import { MAX_PAGE_LIMIT, type Attachment, type Conversation, type DeleteScope, type Message, type MessageSendPayload } from "@parley/protocol";
import type { Connection } from "./connection/connection.js";
import type { ResolvedOptions } from "./options.js";
import { ParleyClientError } from "./parley-client-error.js";
import { createClientId } from "./sending/client-id.js";
import type { DeliveryReporter } from "./sending/delivery-reporter.js";
import type { Outbox } from "./sending/outbox.js";
import { assertPacketFits } from "./sending/packet-size.js";
import type { TypingSender } from "./sending/typing-sender.js";
import type { ConversationSnapshot, ConversationStore } from "./store/conversation-store.js";
import type { InboxStore } from "./store/inbox-store.js";
import type { ReadableStore } from "./store/readable-store.js";

/**
 * What a new message holds. Attachments are files uploaded with
 * `client.upload()` (or `POST /v1/uploads`): their ids, or the whole
 * attachments, which the message then shows while it is pending.
 */
export interface SendInput {
  text?: string;
  type?: "text" | "image" | "file";
  attachments?: Array<{ id: string } | Attachment>;
  /** The id of the message this one answers. */
  replyTo?: string;
  metadata?: Record<string, unknown>;
  /** The send's idempotency key. @default a new random id */
  clientId?: string;
}

/** What a conversation handle needs from its client. */
export interface ConversationContext {
  readonly connection: Connection;
  readonly outbox: Outbox;
  readonly inbox: InboxStore;
  readonly typing: TypingSender;
  readonly delivery: DeliveryReporter;
  readonly options: ResolvedOptions;
  me(): string | null;
  /** The inbox may be out of date: fetch its first page again (debounced). */
  refreshInbox(): void;
}

/** Messages before the one a window opens at ({@link ConversationHandle.openAt}), for context, at most. */
const CONTEXT_BEFORE = 5;

/** Resolves with nothing and never rejects unhandled: callers may ignore the promise. */
function quiet<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

/**
 * One conversation: its live local state (`getSnapshot`/`subscribe`) and
 * everything a user does in it. Get it with `client.conversation(id)`; the
 * same id always gives the same handle.
 *
 * @example
 * const chat = client.conversation(id);
 * const stop = chat.subscribe(() => render(chat.getSnapshot().messages));
 * await chat.open();
 * await chat.send({ text: "Hello" });
 */
export class ConversationHandle implements ReadableStore<ConversationSnapshot> {
  readonly id: string;
  readonly #store: ConversationStore;
  readonly #ctx: ConversationContext;
  #watching = false;
  #running: Promise<void> | null = null;
  #again = false;
  #skipSyncUpTo: number | null = null;
  #readRequested = 0;

  constructor(store: ConversationStore, ctx: ConversationContext) {
    this.id = store.id;
    this.#store = store;
    this.#ctx = ctx;
  }

  readonly getSnapshot = (): ConversationSnapshot => this.#store.getSnapshot();

  readonly subscribe = (listener: () => void): (() => void) => this.#store.subscribe(listener);

  /** `true` while this client watches the conversation (between `open()` and `close()`). */
  get watching(): boolean {
    return this.#watching;
  }

  /** `true` when this handle holds messages that must be kept in sync. */
  get held(): boolean {
    return this.#watching || this.#store.timeline.loaded;
  }

  /**
   * Watches the conversation (live events, typing, presence of its members)
   * and loads its newest page, members and read positions. After every
   * reconnect the client watches it again and syncs what was missed.
   * Resolves once loaded; rejects with the server's error (e.g. `forbidden`).
   */
  open(): Promise<void> {
    this.#watching = true;
    return quiet(this.refresh());
  }

  /**
   * Stops watching (typing, and live messages of a channel the user is not a member of, stop). The loaded
   * messages stay; a window away from the newest ({@link openAt}) gives way
   * to them, so that coming back starts from the newest.
   */
  close(): void {
    if (!this.#watching) return;
    this.#watching = false;
    this.#store.jumpToLatest();
    this.#ctx.typing.stop(this.id);
    this.#store.clearTyping();
    if (this.#ctx.connection.connected) {
      void quiet(this.#ctx.connection.request("conversation:close", { conversationId: this.id }, { waitForConnection: false }));
    }
  }

  /**
   * Resolves once the loading or catching up under way, if any, has ended
   * (whether it succeeded or not), without asking for one.
   */
  settled(): Promise<void> {
    const running = this.#running;
    if (!running) return Promise.resolve();
    return running.then(
      () => undefined,
      () => undefined,
    );
  }

  /**
   * Brings the conversation up to date: watches it again when it is open,
   * loads it if it never was, then syncs every change after the cursor until
   * the server has no more. Concurrent calls share one run (and run once
   * more if asked during it). `knownLastSeq`, from the `session` event, lets
   * a conversation with nothing new skip its sync.
   */
  refresh(knownLastSeq?: number): Promise<void> {
    if (knownLastSeq !== undefined) this.#skipSyncUpTo = knownLastSeq;
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    const run = async () => {
      let firstError: unknown = null;
      do {
        this.#again = false;
        try {
          await this.#refreshOnce();
          firstError = null;
        } catch (err) {
          if (err instanceof ParleyClientError && err.code === "unavailable") {
            // The connection dropped mid-way; the next `session` runs this again.
            firstError = err;
            await this.#ctx.connection.whenConnected();
            this.#again = true;
          } else {
            this.#store.setStatus("error", err instanceof ParleyClientError ? err : new ParleyClientError("internal", String(err)));
            throw err;
          }
        }
      } while (this.#again);
      if (firstError) throw firstError;
    };
    this.#running = run().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  async #refreshOnce(): Promise<void> {
    const { connection, options } = this.#ctx;
    const timeline = this.#store.timeline;
    const loaded = timeline.loaded;
    const skipUpTo = this.#skipSyncUpTo;
    this.#skipSyncUpTo = null;
    // The session said nothing changed after what this client has seen.
    const upToDate = loaded && skipUpTo !== null && timeline.cursor !== null && skipUpTo <= timeline.cursor;
    if (this.#watching || !loaded) {
      if (!loaded) this.#store.setStatus("loading");
      const opened = await connection.request("conversation:open", {
        conversationId: this.id,
        limit: loaded ? 0 : options.pageSize,
      });
      this.#store.batch(() => {
        this.#store.setConversation(opened.conversation);
        this.#store.setMembers(opened.members);
        if (!timeline.loaded) {
          this.#store.applyPage(opened.messages, opened.hasMore);
          timeline.syncedTo(opened.conversation.lastSeq);
          this.#received(opened.messages);
        }
      });
      const own = this.#store.ownMember;
      if (own) this.#ctx.inbox.knowReadPosition(this.id, own.lastReadSeq);
    }
    if (!upToDate) await this.#sync();
    this.#store.setStatus("ready");
  }

  /** Fetches every change after the cursor, page by page, until the server has no more. */
  async #sync(): Promise<void> {
    const timeline = this.#store.timeline;
    let afterSeq = timeline.cursor ?? 0;
    for (;;) {
      const page = await this.#ctx.connection.request("conversation:sync", { conversationId: this.id, afterSeq, limit: 200 });
      this.#store.batch(() => {
        for (const message of page.messages) {
          this.#store.applyMessage(message, false);
          if (message.senderId === this.#ctx.me()) this.#ctx.outbox.landed(message);
          this.#ctx.inbox.messageArrived(message, this.#ctx.me(), false);
        }
      });
      this.#received(page.messages);
      const last = page.messages[page.messages.length - 1];
      if (page.hasMore && last) {
        afterSeq = last.revSeq;
        continue;
      }
      timeline.syncedTo(page.lastSeq);
      return;
    }
  }

  #received(messages: readonly Message[]): void {
    if (this.#store.conversation?.kind === "channel") return;
    const me = this.#ctx.me();
    let newest = 0;
    for (const m of messages) if (m.senderId !== me && m.seq > newest) newest = m.seq;
    if (newest > 0) this.#ctx.delivery.received(this.id, newest);
  }

  /**
   * Sends a message. It shows at once as `pending`, goes out when connected
   * (queued in order while offline) and is replaced by the stored message
   * when acknowledged. Resolves with the stored message; rejects when the
   * server refuses it for good (it then shows as `failed`; see `retry`), or
   * at once, showing nothing, when it is empty or too large to send.
   */
  send(input: SendInput): Promise<Message> {
    return quiet(
      (async () => {
        const payload: MessageSendPayload = { conversationId: this.id, clientId: input.clientId ?? createClientId() };
        if (input.text !== undefined) payload.text = input.text;
        if (input.type !== undefined) payload.type = input.type;
        if (input.attachments !== undefined && input.attachments.length > 0) payload.attachments = input.attachments.map((a) => ({ id: a.id }));
        if (input.replyTo !== undefined) payload.replyTo = input.replyTo;
        if (input.metadata !== undefined) payload.metadata = input.metadata;
        if ((payload.attachments?.length ?? 0) === 0 && (payload.text ?? "").trim().length === 0) {
          throw new ParleyClientError("invalid_argument", "A message needs text or attachments");
        }
        assertPacketFits("message:send", payload);
        this.#ctx.typing.stop(this.id);
        // A new message goes after the newest ones: a window of older ones gives way to them.
        this.#store.jumpToLatest();
        const display = (input.attachments ?? []).filter((a): a is Attachment => "url" in a && "mimeType" in a);
        return this.#ctx.outbox.enqueue(payload, display);
      })(),
    );
  }

  /** Sends a `failed` message again (same `clientId`, so it can never be stored twice). */
  retry(clientId: string): Promise<Message> {
    const retried = this.#ctx.outbox.retry(clientId);
    return quiet(retried ?? Promise.reject(new ParleyClientError("not_found", "No failed message has this clientId")));
  }

  /** Removes a `failed` message from the list without sending it. */
  discard(clientId: string): void {
    this.#ctx.outbox.discard(clientId);
  }

  /** Edits one of the user's messages. */
  async edit(messageId: string, text: string): Promise<Message> {
    const message = await this.#ctx.connection.request("message:edit", { conversationId: this.id, messageId, text });
    this.#store.applyMessage(message, true);
    return message;
  }

  /** Deletes a message for everyone (a "Message deleted" placeholder stays) or, with `"me"`, hides it for this user only. */
  async delete(messageId: string, scope: DeleteScope = "everyone"): Promise<void> {
    const result = await this.#ctx.connection.request("message:delete", { conversationId: this.id, messageId, scope });
    if (result) this.#store.applyMessage(result, true);
    else this.#store.hideLocally(messageId);
  }

  /** Adds (`on: true`) or removes the user's reaction. */
  async react(messageId: string, emoji: string, on = true): Promise<Message> {
    const message = await this.#ctx.connection.request("message:react", { conversationId: this.id, messageId, emoji, on });
    this.#store.applyMessage(message, true);
    return message;
  }

  /** Loads the page of messages before the oldest one held. Resolves at once when there is none. */
  async loadOlder(): Promise<void> {
    const timeline = this.#store.timeline;
    if (!timeline.loaded) {
      await this.open();
      return;
    }
    const snapshot = this.#store.getSnapshot();
    if (!snapshot.hasOlder || snapshot.loadingOlder) return;
    this.#store.setLoadingOlder(true);
    const generation = timeline.generation;
    try {
      const page = await this.#ctx.connection.request("conversation:history", {
        conversationId: this.id,
        beforeSeq: timeline.oldestSeq ?? timeline.floor,
        limit: this.#ctx.options.pageSize,
      });
      // Unless other messages took the place of those it goes before (a jump to the newest, say).
      if (timeline.generation === generation) this.#store.applyPage(page.messages, page.hasMore);
    } finally {
      this.#store.setLoadingOlder(false);
    }
  }

  /**
   * Shows the messages from `seq` on (with a few before it for context)
   * instead of the newest ones, when they are not on show already: for a
   * long backlog of unread messages, or a link to an old message. Newer
   * messages then come a page at a time with {@link loadNewer}, or all at
   * once with {@link jumpToLatest}; meanwhile the newest ones are kept up to
   * date out of sight (`hasNewer` in the snapshot).
   */
  async openAt(seq: number): Promise<void> {
    const timeline = this.#store.timeline;
    if (!timeline.loaded) await this.open();
    const gapStart = timeline.gapStart;
    const gapEnd = timeline.gapEnd;
    if (gapEnd !== null && seq > gapEnd) {
      this.jumpToLatest();
      return;
    }
    if (seq >= timeline.floor && (gapStart === null || seq < gapStart)) return;
    const pageSize = this.#ctx.options.pageSize;
    const beforeSeq = seq + pageSize - Math.min(CONTEXT_BEFORE, Math.floor(pageSize / 4));
    const generation = timeline.generation;
    const page = await this.#ctx.connection.request("conversation:history", { conversationId: this.id, beforeSeq, limit: pageSize });
    // Unless the reader went to the newest meanwhile (a message sent, "Jump to latest").
    if (timeline.generation === generation) this.#store.openAt(page.messages, page.hasMore, beforeSeq);
  }

  /** Loads the next page towards the newest messages, while `hasNewer` (see {@link openAt}). Resolves at once when there is none. */
  async loadNewer(): Promise<void> {
    const timeline = this.#store.timeline;
    const from = timeline.gapStart;
    const to = timeline.gapEnd;
    if (from === null || to === null || this.#store.getSnapshot().loadingNewer) return;
    // A page of `pageSize` before this covers every message from the gap's start up to it.
    const beforeSeq = Math.min(from + this.#ctx.options.pageSize, to + 1);
    this.#store.setLoadingNewer(true);
    try {
      const page = await this.#ctx.connection.request("conversation:history", {
        conversationId: this.id,
        beforeSeq,
        limit: this.#ctx.options.pageSize,
      });
      // Unless the reader jumped to the newest meanwhile.
      if (timeline.gapStart === from) this.#store.applyNewer(page.messages, beforeSeq);
    } finally {
      this.#store.setLoadingNewer(false);
    }
  }

  /**
   * Fetches the messages that replies on show quote when they are not
   * loaded (older than the pages held), for the quote's sender and text:
   * the snapshot's `quoted`. Each is asked for once; call it whenever the
   * messages on show change (`MessageList` does).
   */
  async loadQuoted(): Promise<void> {
    const missing = this.#store.takeMissingQuoted();
    for (let i = 0; i < missing.length; i += MAX_PAGE_LIMIT) {
      const messageIds = missing.slice(i, i + MAX_PAGE_LIMIT);
      try {
        const { messages } = await this.#ctx.connection.request("message:get", { conversationId: this.id, messageIds });
        this.#store.addQuoted(messages);
      } catch (err) {
        // Asked again next time, unless the server refused these for good; the batches after them were not asked.
        const again = err instanceof ParleyClientError && err.code !== "unavailable" && err.code !== "rate_limited" ? i + messageIds.length : i;
        this.#store.addQuoted([], missing.slice(again));
        throw err;
      }
    }
  }

  /** Shows the newest messages again after {@link openAt} (they were kept up to date: nothing is fetched). */
  jumpToLatest(): void {
    this.#store.jumpToLatest();
  }

  /**
   * Marks the conversation read up to `seq` (default: the newest stored
   * message on show). The unread count drops at once; the server tells the other
   * members (and the user's other devices).
   */
  async markRead(seq?: number): Promise<void> {
    const target = seq ?? this.#store.timeline.newestSeq;
    if (target === null || target <= 0) return;
    const current = Math.max(this.#readRequested, this.#store.ownMember?.lastReadSeq ?? 0);
    if (target <= current && this.#ctx.inbox.unreadOf(this.id) === 0) return;
    this.#readRequested = Math.max(this.#readRequested, target);
    const me = this.#ctx.me();
    if (me !== null) this.#store.readMoved(me, target, new Date().toISOString());
    if (this.#ctx.inbox.readMoved(this.id, target, this.#store.countFromOthersAfter(target))) this.#ctx.refreshInbox();
    await this.#ctx.connection.request("conversation:read", { conversationId: this.id, seq: target });
  }

  /**
   * Call on every keystroke in the composer: the others see "… is typing"
   * (sent at most every few seconds; stops by itself after a pause, and when
   * the message is sent).
   */
  sendTyping(): void {
    if (!this.#ctx.connection.connected) return;
    this.#ctx.typing.keystroke(this.id);
  }

  /** The user cleared the composer or left: stop showing them as typing. */
  stopTyping(): void {
    this.#ctx.typing.stop(this.id);
  }

  /** Joins (channels; operators in support; moderators in groups). */
  async join(): Promise<Conversation> {
    const { conversation, member } = await this.#ctx.connection.request("conversation:join", { conversationId: this.id });
    this.#store.setConversation(conversation);
    this.#store.memberJoined(member);
    this.#ctx.refreshInbox();
    return conversation;
  }

  /** Leaves the conversation. */
  async leave(): Promise<void> {
    await this.#ctx.connection.request("conversation:leave", { conversationId: this.id });
    const me = this.#ctx.me();
    if (me !== null) this.#store.memberLeft(me);
    this.#ctx.inbox.remove(this.id);
  }
}
