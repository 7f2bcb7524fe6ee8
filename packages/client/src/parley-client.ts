import type { Attachment, ClientEventName, Conversation, ConversationCreatePayload, Message, SessionInfo } from "@parley/protocol";
import {
  Connection,
  type ConnectionState,
  type EventPayload,
  type EventResult,
  type SessionUser,
} from "./connection/connection.js";
import { ConversationHandle, type ConversationContext } from "./conversation-handle.js";
import { restRequest, uploadFile, type UploadOptions } from "./http/rest.js";
import { ParleyClientError } from "./parley-client-error.js";
import { resolveOptions, type ParleyClientOptions, type ResolvedOptions } from "./options.js";
import { DeliveryReporter } from "./sending/delivery-reporter.js";
import { Outbox } from "./sending/outbox.js";
import { TypingSender } from "./sending/typing-sender.js";
import { ConversationStore } from "./store/conversation-store.js";
import { InboxStore, type InboxSnapshot } from "./store/inbox-store.js";
import { PresenceStore, type PresenceSnapshot } from "./store/presence-store.js";
import type { ReadableStore } from "./store/readable-store.js";

/** The user's conversation list: a store plus the calls that fill it. */
export interface Inbox extends ReadableStore<InboxSnapshot> {
  /** Loads (or reloads) the first page; kept live afterwards. */
  load(): Promise<void>;
  /** Loads the next page of older conversations. */
  loadMore(): Promise<void>;
}

/** Presence of the users UIs ask about. */
export interface PresenceWatch extends ReadableStore<PresenceSnapshot> {
  /** Keeps these users' presence current until the returned function is called. */
  watch(userIds: readonly string[]): () => void;
}

const INBOX_REFRESH_DELAY_MS = 200;

/**
 * A connection to one Parley server as one user, and the local state built
 * from it. Framework-agnostic: every piece of state is a store with
 * `getSnapshot()` and `subscribe()`.
 *
 * @example
 * const client = createParleyClient({ url: "https://chat.example.com", getToken: fetchParleyToken });
 * client.connection.subscribe(() => console.log(client.connection.getSnapshot().status));
 * const chat = client.conversation(conversationId);
 * await chat.open();
 * await chat.send({ text: "Hello" });
 */
export class ParleyClient {
  /** Connection status (`connecting` | `connected` | `reconnecting` | `disconnected`), its error and the signed-in user. */
  readonly connection: ReadableStore<ConnectionState>;
  /** The conversation list with live unread counts. */
  readonly inbox: Inbox;
  /** Presence of watched users. */
  readonly presence: PresenceWatch;
  /** The options in force, defaults filled in. */
  readonly options: ResolvedOptions;

  readonly #connection: Connection;
  readonly #outbox: Outbox;
  readonly #inbox = new InboxStore();
  readonly #presence: PresenceStore;
  readonly #typing: TypingSender;
  readonly #delivery: DeliveryReporter;
  readonly #handles = new Map<string, ConversationHandle>();
  readonly #stores = new Map<string, ConversationStore>();
  readonly #context: ConversationContext;
  #inboxTimer: ReturnType<typeof setTimeout> | null = null;
  #closed = false;

  constructor(options: ParleyClientOptions) {
    this.options = resolveOptions(options);
    this.#connection = new Connection(this.options, {
      session: (session, reconnected) => this.#onSession(session, reconnected),
      lost: () => this.#onLost(),
    });
    this.connection = this.#connection;
    const connection = this.#connection;
    this.#outbox = new Outbox(
      {
        isConnected: () => connection.connected,
        send: (payload) => connection.emit("message:send", payload, { waitForConnection: false }),
      },
      {
        pending: (conversationId, send) => this.#store(conversationId).setPending(send),
        stored: (message) => this.#applyLive(message, "stored"),
        discarded: (conversationId, clientId) => this.#store(conversationId).removePending(clientId),
      },
    );
    this.#presence = new PresenceStore((userIds) => {
      connection.request("presence:get", { userIds }).then(
        (list) => this.#presence.apply(list),
        () => undefined,
      );
    });
    this.#typing = new TypingSender(
      (conversationId, typing) => {
        if (!connection.connected) return;
        connection.request("typing", { conversationId, typing }, { waitForConnection: false }).catch(() => undefined);
      },
      { intervalMs: this.options.typingIntervalMs, idleMs: this.options.typingIdleMs },
    );
    this.#delivery = new DeliveryReporter(async (conversationId, seq) => {
      await connection.emit("conversation:delivered", { conversationId, seq });
    }, this.options.deliveredDelayMs);
    this.#context = {
      connection,
      outbox: this.#outbox,
      inbox: this.#inbox,
      typing: this.#typing,
      delivery: this.#delivery,
      options: this.options,
      me: () => connection.user?.id ?? null,
      refreshInbox: () => this.#scheduleInboxRefresh(),
    };
    const inbox = this.#inbox;
    this.inbox = {
      getSnapshot: inbox.getSnapshot,
      subscribe: inbox.subscribe,
      load: () => this.#loadInbox(true),
      loadMore: () => this.#loadInbox(false),
    };
    const presence = this.#presence;
    this.presence = {
      getSnapshot: presence.getSnapshot,
      subscribe: presence.subscribe,
      watch: (userIds) => presence.watch(userIds),
    };
    this.#listen();
    if (this.options.autoConnect) connection.connect();
  }

  /** The signed-in user, once the first `session` arrived. */
  get user(): SessionUser | null {
    return this.#connection.user;
  }

  /** Connects (after `disconnect()`, after a refused token, or when created with `autoConnect: false`). */
  connect(): void {
    this.#connection.connect();
  }

  /** Disconnects until `connect()`; sends made meanwhile wait in the outbox. */
  disconnect(): void {
    this.#connection.disconnect();
  }

  /** Disconnects for good and stops every timer. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#inboxTimer) clearTimeout(this.#inboxTimer);
    this.#typing.reset();
    this.#delivery.close();
    this.#outbox.close();
    this.#connection.close();
    for (const store of this.#stores.values()) store.dispose();
  }

  /** The handle of one conversation (the same object for the same id). */
  conversation(conversationId: string): ConversationHandle {
    let handle = this.#handles.get(conversationId);
    if (!handle) {
      handle = new ConversationHandle(this.#store(conversationId), this.#context);
      this.#handles.set(conversationId, handle);
    }
    return handle;
  }

  /** Creates a conversation (or returns the existing direct one, or the one with the same `ref`). */
  async createConversation(payload: ConversationCreatePayload): Promise<Conversation> {
    const conversation = await this.#connection.request("conversation:create", payload);
    this.#scheduleInboxRefresh();
    return conversation;
  }

  /**
   * Sends any client→server event and resolves with its ack's `data`
   * (rejects with a `ParleyClientError`). Waits for the connection.
   */
  request<E extends ClientEventName>(event: E, payload: EventPayload<E>): Promise<EventResult<E>> {
    return this.#connection.request(event, payload);
  }

  /**
   * Uploads one file (`POST /v1/uploads`) as the signed-in user and resolves
   * with the stored attachment; send it with
   * `chat.send({ type: "image", attachments: [attachment] })`. Rejects with
   * `payload_too_large` or `invalid_argument` (a refused type) as the server
   * answers.
   *
   * @example
   * const attachment = await client.upload(file, { onProgress: (loaded, total) => setProgress(loaded / total) });
   */
  async upload(file: Blob, options: UploadOptions = {}): Promise<Attachment> {
    return uploadFile(this.options.url, await this.#connection.token(), file, options);
  }

  /**
   * Calls the REST API (`/v1/…`) as the signed-in user and resolves with the
   * JSON body; rejects with a `ParleyClientError` carrying the server's code.
   *
   * @example
   * const { members } = await client.api<{ members: Member[] }>("GET", `/v1/conversations/${id}/members`);
   */
  async api<T>(method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE", path: string, body?: unknown): Promise<T> {
    return restRequest<T>(this.options.url, await this.#connection.token(), method, path, body);
  }

  #store(conversationId: string): ConversationStore {
    let store = this.#stores.get(conversationId);
    if (!store) {
      const connection = this.#connection;
      store = new ConversationStore(
        conversationId,
        () => ({ userId: connection.user?.id ?? null, name: connection.user?.name ?? "" }),
        this.options.url,
      );
      this.#stores.set(conversationId, store);
    }
    return store;
  }

  #onSession(session: SessionInfo, reconnected: boolean): void {
    this.#inbox.applySession(session);
    if (this.#inbox.loaded && (reconnected || this.#inbox.missingFrom(session))) this.#scheduleInboxRefresh(0);
    const lastSeqs = new Map(session.conversations.map((c) => [c.id, c.lastSeq]));
    for (const handle of this.#handles.values()) {
      if (handle.held) handle.refresh(lastSeqs.get(handle.id)).catch(() => undefined);
    }
    this.#outbox.resume();
    this.#presence.refetch();
  }

  #onLost(): void {
    this.#typing.reset();
    this.#presence.forget();
    for (const store of this.#stores.values()) store.clearTyping();
  }

  /** A message reached this client live (an event, or the ack of its own send). */
  #applyLive(message: Message, source: "new" | "changed" | "stored"): void {
    const me = this.#connection.user?.id ?? null;
    this.#stores.get(message.conversationId)?.applyMessage(message, true);
    if (message.senderId === me && message.clientId !== null && source !== "stored") this.#outbox.landed(message);
    const stale =
      source === "changed" ? this.#inbox.messageChanged(message, me) : this.#inbox.messageArrived(message, me, source === "new");
    if (stale && this.#inbox.loaded) this.#scheduleInboxRefresh();
    // Channels keep no delivery state: their many members report nothing.
    if (source === "new" && message.senderId !== me && !this.#isChannel(message.conversationId)) {
      this.#delivery.received(message.conversationId, message.seq);
    }
  }

  #isChannel(conversationId: string): boolean {
    return (this.#stores.get(conversationId)?.conversation?.kind ?? this.#inbox.kindOf(conversationId)) === "channel";
  }

  #listen(): void {
    const socket = this.#connection.socket;
    socket.on("message:new", (m) => this.#applyLive(m, "new"));
    socket.on("message:updated", (m) => this.#applyLive(m, "changed"));
    socket.on("message:deleted", (m) => this.#applyLive(m, "changed"));
    socket.on("conversation:created", () => this.#scheduleInboxRefresh());
    socket.on("conversation:updated", (conversation) => {
      this.#stores.get(conversation.id)?.setConversation(conversation);
      this.#inbox.conversationChanged(conversation);
    });
    socket.on("member:joined", ({ conversationId, member }) => {
      this.#stores.get(conversationId)?.memberJoined(member);
      if (member.userId === this.user?.id) this.#scheduleInboxRefresh();
      else this.#inbox.memberJoined(conversationId, member);
    });
    socket.on("member:left", ({ conversationId, member }) => {
      this.#stores.get(conversationId)?.memberLeft(member.userId);
      if (member.userId === this.user?.id) this.#inbox.remove(conversationId);
      else this.#inbox.memberLeft(conversationId, member.userId);
    });
    socket.on("conversation:read", ({ conversationId, userId, seq, at }) => {
      const store = this.#stores.get(conversationId);
      store?.readMoved(userId, seq, at);
      if (userId !== this.user?.id && this.#inbox.othersMoved(conversationId, seq, "read") && this.#inbox.loaded) this.#scheduleInboxRefresh();
      if (userId === this.user?.id) {
        const stale = this.#inbox.readMoved(conversationId, seq, store?.countFromOthersAfter(seq) ?? null);
        if (stale && this.#inbox.loaded) this.#scheduleInboxRefresh();
      }
    });
    socket.on("conversation:delivered", ({ conversationId, userId, seq }) => {
      this.#stores.get(conversationId)?.deliveredMoved(userId, seq);
      if (userId !== this.user?.id && this.#inbox.othersMoved(conversationId, seq, "delivered") && this.#inbox.loaded) this.#scheduleInboxRefresh();
    });
    socket.on("typing", ({ conversationId, userId, name, typing }) => {
      this.#stores.get(conversationId)?.setTyping(userId, name, typing);
    });
    socket.on("presence", (presence) => this.#presence.apply([presence]));
  }

  async #loadInbox(first: boolean): Promise<void> {
    const inbox = this.#inbox;
    if (!first && inbox.cursor === null) return;
    if (first) {
      if (!inbox.loaded) inbox.setStatus("loading");
    } else inbox.setLoadingMore(true);
    try {
      const page = await this.#connection.request(
        "conversation:list",
        first ? { limit: this.options.pageSize } : { limit: this.options.pageSize, cursor: inbox.cursor ?? undefined },
      );
      inbox.applyPage(page, first);
    } catch (err) {
      if (!inbox.loaded) {
        inbox.setStatus("error", err instanceof ParleyClientError ? err : new ParleyClientError("internal", String(err)));
      }
      throw err;
    } finally {
      if (!first) inbox.setLoadingMore(false);
    }
  }

  #scheduleInboxRefresh(delay = INBOX_REFRESH_DELAY_MS): void {
    if (!this.#inbox.loaded || this.#closed || this.#inboxTimer) return;
    this.#inboxTimer = setTimeout(() => {
      this.#inboxTimer = null;
      this.#loadInbox(true).catch(() => undefined);
    }, delay);
  }
}

/**
 * Creates a client and (unless `autoConnect: false`) starts connecting.
 *
 * @example
 * const client = createParleyClient({ url: "http://localhost:4000", token });
 */
export function createParleyClient(options: ParleyClientOptions): ParleyClient {
  return new ParleyClient(options);
}
