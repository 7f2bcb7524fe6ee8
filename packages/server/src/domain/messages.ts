import {
  DEFAULT_PAGE_LIMIT,
  type DeleteScope,
  type FoundMessages,
  type HistoryPage,
  type Message,
  type OpenedConversation,
  type SyncPage,
} from "@parley/protocol";
import type { Kysely, Selectable } from "kysely";
import type { Config } from "../config/config.js";
import type { Storage } from "../storage/database.js";
import { isoNow, toConversation, toJson, toMessage } from "../storage/mappers.js";
import { appendAsMember, appendSentMessage, findMessage, historyPageQuery, listedAtOf, newMessageId, nextSeq, syncPageQuery } from "../storage/message-log.js";
import type { ConversationsTable, Database, MessagesTable } from "../storage/schema.js";
import type { RateDecision, RateLimiter } from "../rate-limit/rate-limiter.js";
import { isUniqueViolation } from "../storage/storage-errors.js";
import { assertRead, audienceOf, canDeleteForEveryone, joinLabel, onlyUser, loadAccess, loadAudience, postAccess } from "./access.js";
import type { ConversationService } from "./conversations.js";
import type { Audience } from "./domain-events.js";
import type { Db, Emit, UnitOfWork } from "./unit-of-work.js";
import type { UploadService } from "./uploads.js";
import { loadMemberPage, type PageRow } from "./member-pages.js";
import { checkMessageText, messageTextProblem } from "./message-text.js";
import { conflict, forbidden, invalid, notFound, ParleyError } from "./parley-error.js";
import { isOperator, type Principal } from "./principal.js";

/** What a send needs; the same for `message:send` and `POST …/messages`. */
export interface SendMessageInput {
  clientId?: string | undefined;
  type?: "text" | "image" | "file" | undefined;
  text?: string | undefined;
  attachments?: Array<{ id: string }> | undefined;
  replyTo?: string | undefined;
  metadata?: Record<string, unknown> | undefined;
}

/** A send's outcome: the stored message, and whether it already existed (a retry). */
export interface SendResult {
  message: Message;
  duplicate: boolean;
}

function hiddenCopy(message: Message): Message {
  return { ...message, text: null, attachments: [], reactions: {}, hidden: true };
}

/** Who reacted with `emoji`: an own key of the reactions only, never something inherited like `valueOf`. */
function reactorsOf(reactions: Message["reactions"], emoji: string): string[] {
  return Object.hasOwn(reactions, emoji) ? (reactions[emoji] ?? []) : [];
}

/** Messages: send, edit, delete, react, read state, history and sync. */
export class MessageService {
  readonly #storage: Storage;
  readonly #config: Config;
  readonly #uow: UnitOfWork;
  readonly #conversations: ConversationService;

  readonly #limiter: RateLimiter;
  readonly #uploads: UploadService;

  constructor(
    storage: Storage,
    config: Config,
    uow: UnitOfWork,
    conversations: ConversationService,
    limiter: RateLimiter,
    uploads: UploadService,
  ) {
    this.#uploads = uploads;
    this.#storage = storage;
    this.#config = config;
    this.#uow = uow;
    this.#conversations = conversations;
    this.#limiter = limiter;
  }

  /**
   * Stores a message from the caller and then announces it. A second send
   * with the same `clientId` returns the first message and stores nothing.
   */
  async send(p: Principal, conversationId: string, input: SendMessageInput): Promise<SendResult> {
    // A member's plain text send first tries the path that checks access
    // inside the append's own statement (PostgreSQL) or the statement that
    // takes the next seq (SQLite): one statement fewer, and on PostgreSQL
    // one round trip to the database, not two. Whatever it does not store
    // (a stranger, a closed conversation, a retry, a sender over the limit)
    // takes the path below, which finds out why and answers as it always does.
    let decision: RateDecision | undefined;
    if (p.kind !== "system" && this.#isPlainText(input)) {
      decision = await this.#takeRate(p);
      if (decision.allowed) {
        const sent = await this.#sendAsMember(p, conversationId, input);
        if (sent) return sent;
      }
    }

    const view = await loadAccess(this.#storage, p, conversationId);
    const access = postAccess(p, view);
    if (!access) throw forbidden("You may not post in this conversation");

    // A retry of a stored message is a success even if the conversation closed
    // or the sender is over the limit since; only then is the clientId looked up
    // before storing (otherwise the unique index catches a duplicate).
    const refusal =
      view.conversation.status === "closed"
        ? conflict("This conversation is closed")
        : p.kind !== "system"
          ? await (decision ? Promise.resolve(decision) : this.#takeRate(p)).then((taken) =>
              taken.allowed
                ? null
                : new ParleyError("rate_limited", "Too many messages; slow down", { retryAfterMs: taken.retryAfterMs }),
            )
          : null;
    if (refusal) {
      const existing = input.clientId === undefined ? null : await this.#byClientId(p.id, input.clientId);
      if (existing) return this.#asRetry(existing, conversationId);
      throw refusal;
    }

    const refs = input.attachments ?? [];
    if (refs.length === 0) {
      if (input.type !== undefined && input.type !== "text") throw invalid(`A ${input.type} message needs attachments`);
      if (input.text === undefined) throw invalid("text is required");
    } else if (input.type === "text") {
      throw invalid('A text message carries no attachments; send type "image" or "file"');
    }
    if (input.text !== undefined) checkMessageText(input.text, this.#config.maxMessageLength);
    if (input.replyTo !== undefined) {
      const original = await findMessage(this.#storage.db, conversationId, input.replyTo);
      if (!original) throw invalid("replyTo is not a message of this conversation");
    }

    try {
      // Concurrent sends share a transaction and its commit (group commit).
      // A text send without a join writes one statement (the append), and
      // may skip the transaction around it.
      const oneStatement = refs.length === 0 && access !== "join";
      const stored = await this.#uow.runGrouped(async (trx, emit) => {
        // Posting in a channel, or an operator answering a support conversation, joins.
        const attachments = await this.#uploads.resolve(trx, p, refs);
        const allImages = attachments.every((a) => a.mimeType.startsWith("image/"));
        const type = refs.length === 0 ? "text" : (input.type ?? (allImages ? "image" : "file"));
        if (type === "image" && !allImages) throw invalid("An image message holds only images");
        if (access === "join") await this.#conversations.insertMembership(trx, emit, view, p.id, "member", joinLabel(p));
        const id = newMessageId();
        const channel = view.conversation.kind === "channel";
        const sent = await appendSentMessage(
          trx,
          this.#storage.sqlite,
          {
            id,
            conversationId,
            senderId: p.id,
            senderName: p.name,
            type,
            attachments,
            text: input.text ?? null,
            replyTo: input.replyTo ?? null,
            metadata: input.metadata ?? {},
            clientId: input.clientId ?? null,
          },
          !channel,
        );
        // Already stored under this clientId: answered below, outside the group.
        if (!sent) return null;
        const { message, memberIds } = sent;
        await this.#uploads.link(trx, conversationId, id, attachments);
        // The bump that gave the message its seq made it the conversation's last change and activity.
        const at = message.createdAt;
        const listed_at = listedAtOf(view.conversation.kind, at);
        const now = { ...view.conversation, last_seq: message.seq, last_message_at: at, activity_at: at, listed_at };
        const audience = audienceOf(view.conversation.kind, memberIds ?? []);
        return this.#announce(trx, emit, "message.created", conversationId, message, now, audience);
      }, { oneStatement });
      if (stored) return { message: stored, duplicate: false };
      const existing = await this.#byClientId(p.id, input.clientId!);
      if (existing) return this.#asRetry(existing, conversationId);
      throw new Error(`clientId ${input.clientId} was taken but its message is gone`);
    } catch (err) {
      if (input.clientId !== undefined && isUniqueViolation(err)) {
        const existing = await this.#byClientId(p.id, input.clientId);
        if (existing) return this.#asRetry(existing, conversationId);
      }
      throw err;
    }
  }

  #takeRate(p: Principal): Promise<RateDecision> {
    return this.#limiter.take(`msg:${p.id}`, this.#config.rateMessages);
  }

  /** Text alone, and text {@link send} would accept. */
  #isPlainText(input: SendMessageInput): boolean {
    return (
      (input.attachments ?? []).length === 0 &&
      (input.type === undefined || input.type === "text") &&
      input.replyTo === undefined &&
      input.text !== undefined &&
      messageTextProblem(input.text, this.#config.maxMessageLength) === null
    );
  }

  /**
   * A member's text send, with the access check in the append
   * (see `appendAsMember`); `null` when it stored nothing.
   */
  async #sendAsMember(p: Principal, conversationId: string, input: SendMessageInput): Promise<SendResult | null> {
    try {
      const stored = await this.#uow.runGrouped(
        async (trx, emit) => {
          const sent = await appendAsMember(trx, this.#storage.sqlite, {
            id: newMessageId(),
            conversationId,
            senderId: p.id,
            senderName: p.name,
            type: "text",
            text: input.text ?? null,
            metadata: input.metadata ?? {},
            clientId: input.clientId ?? null,
          });
          if (!sent) return null;
          const audience = audienceOf(sent.conversation.kind, sent.memberIds ?? []);
          return this.#announce(trx, emit, "message.created", conversationId, sent.message, sent.conversation, audience);
        },
        { oneStatement: true },
      );
      return stored ? { message: stored, duplicate: false } : null;
    } catch (err) {
      // The clientId was taken (SQLite: always refused here; PostgreSQL:
      // stored by another node meanwhile): the other path answers with it.
      if (isUniqueViolation(err)) return null;
      throw err;
    }
  }

  async #byClientId(senderId: string, clientId: string): Promise<Message | null> {
    const row = await this.#storage.db
      .selectFrom("messages")
      .selectAll()
      .where("sender_id", "=", senderId)
      .where("client_id", "=", clientId)
      .executeTakeFirst();
    return row ? toMessage(row) : null;
  }

  #asRetry(existing: Message, conversationId: string): SendResult {
    if (existing.conversationId !== conversationId) {
      throw conflict("clientId was already used for a message in another conversation");
    }
    return { message: this.#uploads.present(existing), duplicate: true };
  }

  /** Edits the caller's own message. */
  async edit(p: Principal, conversationId: string, messageId: string, text: string): Promise<Message> {
    const view = await loadAccess(this.#storage, p, conversationId);
    assertRead(p, view);
    const message = await this.#require(conversationId, messageId);
    if (message.senderId !== p.id || message.type === "system") throw forbidden("Only the sender may edit a message");
    if (message.deletedAt) throw conflict("This message was deleted");
    checkMessageText(text, this.#config.maxMessageLength);
    const now = isoNow();
    return this.#uow.run(async (trx, emit) => {
      const seq = await nextSeq(trx, conversationId, null);
      const row = await trx
        .updateTable("messages")
        .set({ text, edited_at: now, rev_seq: seq })
        .where("id", "=", messageId)
        .returningAll()
        .executeTakeFirstOrThrow();
      return this.#announce(trx, emit, "message.updated", conversationId, toMessage(row));
    });
  }

  /**
   * Deletes a message for everyone (leaves a tombstone) or, with scope `me`,
   * hides it for the caller only. Deleting again is not an error.
   */
  async delete(p: Principal, conversationId: string, messageId: string, scope: DeleteScope): Promise<Message | null> {
    const view = await loadAccess(this.#storage, p, conversationId);
    assertRead(p, view);
    const message = await this.#require(conversationId, messageId);
    const now = isoNow();

    if (scope === "me") {
      await this.#uow.run(async (trx, emit) => {
        const inserted = await trx
          .insertInto("hidden_messages")
          .values({ user_id: p.id, message_id: messageId, conversation_id: conversationId, hidden_at: now })
          .onConflict((oc) => oc.columns(["user_id", "message_id"]).doNothing())
          .returning("message_id")
          .executeTakeFirst();
        if (!inserted) return;
        const seq = await nextSeq(trx, conversationId, null);
        const row = await trx
          .updateTable("messages")
          .set({ rev_seq: seq })
          .where("id", "=", messageId)
          .returningAll()
          .executeTakeFirstOrThrow();
        const conversation = await trx.selectFrom("conversations").selectAll().where("id", "=", conversationId).executeTakeFirstOrThrow();
        emit({ type: "message.deleted", conversation: toConversation(conversation), message: hiddenCopy(toMessage(row)), audience: onlyUser(p.id) });
      });
      return null;
    }

    if (!canDeleteForEveryone(p, view, message)) throw forbidden("You may not delete this message");
    if (message.deletedAt) return message;
    let removed: string[] = [];
    const tombstone = await this.#uow.run(async (trx, emit) => {
      const seq = await nextSeq(trx, conversationId, null);
      const row = await trx
        .updateTable("messages")
        .set({ text: null, attachments: toJson([]), reactions: toJson({}), deleted_at: now, rev_seq: seq })
        .where("id", "=", messageId)
        .returningAll()
        .executeTakeFirstOrThrow();
      removed = await this.#uploads.detach(trx, messageId);
      return this.#announce(trx, emit, "message.deleted", conversationId, toMessage(row));
    });
    await this.#uploads.removeFiles(removed);
    return tombstone;
  }

  /** Adds (`on: true`) or removes the caller's reaction; idempotent. */
  async react(p: Principal, conversationId: string, messageId: string, emoji: string, on: boolean): Promise<Message> {
    const view = await loadAccess(this.#storage, p, conversationId);
    // Members react; so do readers of a channel and operators in support.
    // A global moderator reacts where they are a member (they join a group first).
    if (!view.member && !(view.conversation.kind === "support" && isOperator(p))) {
      assertRead(p, view);
      if (view.conversation.kind !== "channel") throw forbidden("Only members may react");
    }
    const current = await this.#require(conversationId, messageId);
    if (current.deletedAt) throw conflict("This message was deleted");
    const has = reactorsOf(current.reactions, emoji).includes(p.id);
    if (has === on) return this.#uploads.present(current);
    return this.#uow.run(async (trx, emit) => {
      const seq = await nextSeq(trx, conversationId, null);
      const fresh = (await findMessage(trx, conversationId, messageId))!;
      const users = new Set(reactorsOf(fresh.reactions, emoji));
      if (on) users.add(p.id);
      else users.delete(p.id);
      // No prototype: an emoji such as "__proto__" or "valueOf" is just a key.
      const reactions: Record<string, string[]> = Object.assign(Object.create(null) as Record<string, string[]>, fresh.reactions);
      if (users.size > 0) reactions[emoji] = [...users];
      else delete reactions[emoji];
      const row = await trx
        .updateTable("messages")
        .set({ reactions: toJson(reactions), rev_seq: seq })
        .where("id", "=", messageId)
        .returningAll()
        .executeTakeFirstOrThrow();
      return this.#announce(trx, emit, "message.updated", conversationId, toMessage(row));
    });
  }

  /**
   * Runs a read that starts with the access check on one connection: on
   * PostgreSQL the check and the page go one after the other to one backend,
   * warm from the first statement (measured against the check batched with
   * other requests' beside the page on a second connection: history p50 1.5
   * -> 1.2 ms, sync 2.0 -> 1.25 ms); on SQLite there is one connection anyway.
   */
  #onOneConnection<T>(read: (on: Kysely<Database>) => Promise<T>): Promise<T> {
    return this.#storage.sqlite ? read(this.#storage.db) : this.#storage.db.connection().execute(read);
  }

  /** The newest page before `beforeSeq` (or the newest), oldest→newest, without messages the caller hid. */
  async history(p: Principal, conversationId: string, beforeSeq?: number, limit = DEFAULT_PAGE_LIMIT): Promise<HistoryPage> {
    const page = await loadMemberPage(this.#storage, "history", { conversationId, userId: p.id, cursor: beforeSeq, rows: limit + 1 });
    if (page) return this.#historyPage(page.rows, limit);
    // A stranger's request never reads the page.
    return this.#onOneConnection(async (on) => {
      assertRead(p, await loadAccess(this.#storage, p, conversationId, on));
      return this.#history(p, conversationId, beforeSeq, limit, on);
    });
  }

  async #history(
    p: Principal,
    conversationId: string,
    beforeSeq: number | undefined,
    limit: number,
    on: Kysely<Database> = this.#storage.db,
  ): Promise<HistoryPage> {
    return this.#historyPage(await historyPageQuery(on, conversationId, p.id, beforeSeq, limit).execute(), limit);
  }

  /**
   * The messages of the conversation with these ids, by `seq`: what a client
   * needs of a message it does not hold (the original a reply quotes, out of
   * the pages loaded). Ids of no message here, and messages the caller hid,
   * are left out.
   */
  async get(p: Principal, conversationId: string, messageIds: readonly string[]): Promise<FoundMessages> {
    return this.#onOneConnection(async (on) => {
      assertRead(p, await loadAccess(this.#storage, p, conversationId, on));
      const rows = await on
        .selectFrom("messages as m")
        .selectAll("m")
        .where("m.conversation_id", "=", conversationId)
        .where("m.id", "in", [...new Set(messageIds)])
        .where((eb) =>
          eb.not(
            eb.exists(eb.selectFrom("hidden_messages as h").select("h.message_id").whereRef("h.message_id", "=", "m.id").where("h.user_id", "=", p.id)),
          ),
        )
        .orderBy("m.seq")
        .execute();
      return { messages: rows.map((row) => this.#uploads.present(toMessage(row))) };
    });
  }

  /** Up to `limit + 1` rows, newest first, as a page. */
  #historyPage(rows: ReadonlyArray<Selectable<MessagesTable>>, limit: number): HistoryPage {
    const hasMore = rows.length > limit;
    return { messages: rows.slice(0, limit).reverse().map((row) => this.#uploads.present(toMessage(row))), hasMore };
  }

  /**
   * Everything changed after `afterSeq` (`revSeq > afterSeq`), ascending.
   * Messages the caller hid come as hidden copies so their other devices drop them.
   */
  async sync(p: Principal, conversationId: string, afterSeq: number, limit = DEFAULT_PAGE_LIMIT): Promise<SyncPage> {
    const page = await loadMemberPage(this.#storage, "sync", { conversationId, userId: p.id, cursor: afterSeq, rows: limit + 1 });
    if (page) return this.#syncPage(page.rows, page.lastSeq, limit);
    return this.#onOneConnection((on) => this.#sync(p, conversationId, afterSeq, limit, on));
  }

  async #sync(p: Principal, conversationId: string, afterSeq: number, limit: number, on: Kysely<Database>): Promise<SyncPage> {
    const view = await loadAccess(this.#storage, p, conversationId, on);
    assertRead(p, view);
    // Read the counter before the messages: every change up to it is committed,
    // so a client resuming from `lastSeq` can never skip one.
    const lastSeq = Number(view.conversation.last_seq);
    return this.#syncPage(await syncPageQuery(on, conversationId, p.id, afterSeq, lastSeq, limit).execute(), lastSeq, limit);
  }

  /** Up to `limit + 1` rows in `rev_seq` order, as a page up to `lastSeq`. */
  #syncPage(rows: ReadonlyArray<PageRow>, lastSeq: number, limit: number): SyncPage {
    const hasMore = rows.length > limit;
    const messages = rows.slice(0, limit).map((row) => {
      const message = toMessage(row);
      return row.hidden_at ? hiddenCopy(message) : this.#uploads.present(message);
    });
    return { messages, lastSeq, hasMore };
  }

  /** The conversation, its members and the newest page; `limit: 0` returns no messages. */
  async open(p: Principal, conversationId: string, limit = DEFAULT_PAGE_LIMIT): Promise<OpenedConversation> {
    const { conversation, members } = await this.#conversations.get(p, conversationId);
    if (limit === 0) return { conversation, members, messages: [], hasMore: conversation.lastSeq > 0 };
    const page = await this.#history(p, conversationId, undefined, limit);
    return { conversation, members, ...page };
  }

  /**
   * Moves the caller's read position forward (never back) and tells the
   * members. Operators keep their own position in every support
   * conversation, member or not.
   */
  async markRead(p: Principal, conversationId: string, seq: number): Promise<{ lastReadSeq: number }> {
    const view = await loadAccess(this.#storage, p, conversationId);
    assertRead(p, view);
    const operatorReading = !view.member && view.conversation.kind === "support" && isOperator(p);
    if (!view.member && !operatorReading) throw forbidden("Only members keep a read position");
    const target = Math.min(seq, Number(view.conversation.last_seq));
    const at = isoNow();
    let current: number;
    if (view.member) {
      current = Number(view.member.last_read_seq);
      if (target > current) {
        await this.#storage.db
          .updateTable("members")
          .set({ last_read_seq: target, last_read_at: at })
          .where("conversation_id", "=", conversationId)
          .where("user_id", "=", p.id)
          .where("last_read_seq", "<", target)
          .execute();
      }
    } else {
      const existing = await this.#storage.db
        .selectFrom("support_reads")
        .select("last_read_seq")
        .where("conversation_id", "=", conversationId)
        .where("user_id", "=", p.id)
        .executeTakeFirst();
      current = Number(existing?.last_read_seq ?? 0);
      if (target > current) {
        await this.#storage.db
          .insertInto("support_reads")
          .values({ conversation_id: conversationId, user_id: p.id, last_read_seq: target, last_read_at: at })
          .onConflict((oc) =>
            oc.columns(["conversation_id", "user_id"]).doUpdateSet({ last_read_seq: target, last_read_at: at }),
          )
          .execute();
      }
    }
    if (target <= current) return { lastReadSeq: current };
    const members = view.conversation.kind === "channel" ? onlyUser(p.id) : await loadAudience(this.#storage.db, view.conversation);
    const audience = { ...members, userIds: [...new Set([...members.userIds, p.id])], operators: false };
    this.#uow.publish({
      type: "conversation.read",
      conversation: toConversation(view.conversation),
      userId: p.id,
      seq: target,
      at,
      audience,
    });
    return { lastReadSeq: target };
  }

  /** Records that the caller's client received everything up to `seq`. */
  async markDelivered(p: Principal, conversationId: string, seq: number): Promise<void> {
    const view = await loadAccess(this.#storage, p, conversationId);
    assertRead(p, view);
    // Channels keep no delivery state (their members' own messages show no ✓✓).
    if (!view.member || view.conversation.kind === "channel") return;
    const target = Math.min(seq, Number(view.conversation.last_seq));
    if (target <= Number(view.member.last_delivered_seq)) return;
    await this.#storage.db
      .updateTable("members")
      .set({ last_delivered_seq: target })
      .where("conversation_id", "=", conversationId)
      .where("user_id", "=", p.id)
      .where("last_delivered_seq", "<", target)
      .execute();
    this.#uow.publish({
      type: "conversation.delivered",
      conversation: toConversation(view.conversation),
      userId: p.id,
      seq: target,
      audience: await loadAudience(this.#storage.db, view.conversation),
    });
  }

  async #require(conversationId: string, messageId: string): Promise<Message> {
    const message = await findMessage(this.#storage.db, conversationId, messageId);
    if (!message) throw notFound("No such message");
    return message;
  }

  /** Emits a message event with the conversation as it now is and who should hear of it. */
  async #announce(
    trx: Db,
    emit: Emit,
    type: "message.created" | "message.updated" | "message.deleted",
    conversationId: string,
    message: Message,
    /** The conversation as it now is, when the caller already knows it (saves a read). */
    known?: Selectable<ConversationsTable>,
    /** Who hears of it, when the caller already knows (saves a read). */
    knownAudience?: Audience,
  ): Promise<Message> {
    const row = known ?? (await trx.selectFrom("conversations").selectAll().where("id", "=", conversationId).executeTakeFirstOrThrow());
    const presented = this.#uploads.present(message);
    const audience = knownAudience ?? (await loadAudience(trx, row));
    if (type === "message.updated") {
      const hiddenFor = (
        await trx.selectFrom("hidden_messages").select("user_id").where("message_id", "=", message.id).execute()
      ).map((h) => h.user_id);
      emit({ type, conversation: toConversation(row), message: presented, audience, hiddenFor });
    } else {
      emit({ type, conversation: toConversation(row), message: presented, audience });
    }
    return presented;
  }
}
