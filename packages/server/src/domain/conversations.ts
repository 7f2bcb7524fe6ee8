import { randomUUID } from "node:crypto";
import {
  DEFAULT_PAGE_LIMIT,
  type Conversation,
  type ConversationKind,
  type ConversationPage,
  type ConversationStatus,
  type ConversationSummary,
  type Member,
  type MemberInput,
  type MemberRole,
  type Membership,
  type Message,
} from "@parley/protocol";
import { sql, type Selectable, type Updateable } from "kysely";
import type { Config } from "../config/config.js";
import type { Storage } from "../storage/database.js";
import { appendMessage, listedAtOf } from "../storage/message-log.js";
import { isoNow, toConversation, toJson, toMember, toMessage } from "../storage/mappers.js";
import type { ConversationsTable } from "../storage/schema.js";
import {
  assertRead,
  audienceJoining,
  canJoin,
  canManage,
  canRead,
  joinLabel,
  loadAccess,
  loadAudience,
  type AccessView,
} from "./access.js";
import type { Db, Emit, UnitOfWork } from "./unit-of-work.js";
import { conflict, forbidden, invalid, notFound, ParleyError } from "./parley-error.js";
import { decodeActivityCursor, encodeActivityCursor } from "./activity-cursor.js";
import { loadChannelCounters, loadPresenceAudience, loadSummaryRows, presenceAudienceOf, type PresenceAudience } from "./session-summary.js";
import { isAdmin, isGlobalModerator, isGuest, isOperator, type Principal } from "./principal.js";
import type { UploadService } from "./uploads.js";
import type { UserDirectory } from "./users.js";

/** What `create` needs; the same for `conversation:create` and `POST /v1/conversations`. */
export interface CreateConversationInput {
  kind: ConversationKind;
  members?: MemberInput[] | undefined;
  ref?: string | undefined;
  title?: string | undefined;
  metadata?: Record<string, unknown> | undefined;
}

export interface UpdateConversationInput {
  title?: string | null | undefined;
  metadata?: Record<string, unknown> | undefined;
  status?: ConversationStatus | undefined;
}

export interface ListConversationsInput {
  kind?: ConversationKind | undefined;
  status?: ConversationStatus | undefined;
  cursor?: string | undefined;
  limit?: number | undefined;
}

/** A conversation with its members, as `GET /v1/conversations/:id` answers. */
export interface ConversationWithMembers {
  conversation: Conversation;
  members: Member[];
}

type ConversationRow = Selectable<ConversationsTable>;


function normalizeMembers(members: MemberInput[] | undefined): Map<string, MemberRole | undefined> {
  const out = new Map<string, MemberRole | undefined>();
  for (const m of members ?? []) {
    if (typeof m === "string") {
      if (!out.has(m)) out.set(m, undefined);
    } else {
      out.set(m.userId, m.role ?? out.get(m.userId));
    }
  }
  return out;
}

/** A connecting user's conversations (see {@link ConversationService.sessionSummary}). */
export interface SessionSummary {
  conversations: Array<{ id: string; lastSeq: number; unread: number; lastReadSeq: number }>;
  /** The channels among them: the user's sockets join their rooms (see `channelRoom`). */
  channelIds: string[];
  /** Who hears of the user's presence. */
  presence: PresenceAudience;
}

/** The status of the caller's own last message (see `ConversationSummary.lastMessageStatus`). */
function ownLastMessageStatus(
  row: { kind: string; others_read_seq: number | string | null; others_delivered_seq: number | string | null },
  last: Message | null,
  me: string,
): ConversationSummary["lastMessageStatus"] {
  if (!last || last.senderId !== me || last.type === "system" || row.kind === "channel") return null;
  if (row.others_read_seq === null) return "sent";
  if (Number(row.others_read_seq) >= last.seq) return "read";
  if (Number(row.others_delivered_seq) >= last.seq) return "delivered";
  return "sent";
}

/** Conversations: create, find, list, update, membership. */
export class ConversationService {
  readonly #storage: Storage;
  readonly #config: Config;
  readonly #users: UserDirectory;
  readonly #uow: UnitOfWork;

  readonly #uploads: UploadService;

  constructor(storage: Storage, config: Config, uow: UnitOfWork, users: UserDirectory, uploads: UploadService) {
    this.#uploads = uploads;
    this.#storage = storage;
    this.#config = config;
    this.#uow = uow;
    this.#users = users;
  }

  /**
   * Creates a conversation, or returns the existing one for the same `ref`
   * (or, for `direct`, the same pair of users) with `created: false`.
   */
  async create(p: Principal, input: CreateConversationInput): Promise<ConversationWithMembers & { created: boolean }> {
    const listed = normalizeMembers(input.members);
    const roles = new Map<string, MemberRole>();
    let directKey: string | null = null;

    switch (input.kind) {
      case "direct": {
        if (isGuest(p)) throw forbidden("Guests may only open support conversations");
        const ids = new Set(listed.keys());
        if (p.kind !== "system") ids.add(p.id);
        if (ids.size !== 2) throw invalid("A direct conversation has exactly two members");
        for (const id of ids) roles.set(id, "member");
        directKey = [...ids].sort().join("\n");
        break;
      }
      case "group": {
        if (isGuest(p)) throw forbidden("Guests may only open support conversations");
        if (!isAdmin(p) && !this.#config.userGroups) throw forbidden("Only the server creates group conversations");
        for (const [id, role] of listed) roles.set(id, role ?? "member");
        if (p.kind !== "system") roles.set(p.id, listed.get(p.id) ?? "owner");
        break;
      }
      case "channel": {
        if (!isAdmin(p)) throw forbidden("Only the server or an admin creates channels");
        for (const [id, role] of listed) roles.set(id, role ?? "member");
        break;
      }
      case "support": {
        if (p.kind === "system") {
          // The host opens it on the visitor's behalf: the visitor is its one member.
          if (listed.size !== 1) throw invalid("A support conversation starts with its visitor only");
          for (const [id] of listed) roles.set(id, "member");
        } else {
          if (listed.size > 0 && !(listed.size === 1 && listed.has(p.id))) {
            throw invalid("A support conversation starts with its visitor only");
          }
          roles.set(p.id, "member");
        }
        break;
      }
    }

    const now = isoNow();
    const values = {
      id: randomUUID(),
      kind: input.kind,
      ref: input.ref ?? null,
      direct_key: directKey,
      title: input.title ?? null,
      metadata: toJson(input.metadata ?? {}),
      status: "open",
      // A support conversation's creator is its visitor, also when the host opened it for them:
      // operators' unread counts there are the visitor's messages.
      created_by: input.kind === "support" && p.kind === "system" ? [...roles.keys()][0]! : p.id,
      created_at: now,
      last_message_at: null,
      activity_at: now,
      listed_at: listedAtOf(input.kind, now),
    };

    const inserted = await this.#uow.run(async (trx, emit) => {
      const row = await trx
        .insertInto("conversations")
        .values(values)
        .onConflict((oc) => oc.doNothing())
        .returningAll()
        .executeTakeFirst();
      if (!row) return null;
      if (roles.size > 0) {
        await trx
          .insertInto("members")
          .values([...roles].map(([userId, role]) => ({ conversation_id: row.id, user_id: userId, role, joined_at: now })))
          .execute();
      }
      const memberIds = [...roles.keys()];
      emit({ type: "conversation.created", conversation: toConversation(row), audience: audienceJoining(row.kind, memberIds, memberIds) });
      return row;
    });

    if (!inserted) return { ...(await this.#existingFor(p, input.kind, input.ref ?? null, directKey)), created: false };
    return { conversation: toConversation(inserted), members: await this.#members(inserted.id), created: true };
  }

  async #existingFor(
    p: Principal,
    kind: ConversationKind,
    ref: string | null,
    directKey: string | null,
  ): Promise<ConversationWithMembers> {
    const db = this.#storage.db;
    // The insert met an existing ref, or (direct) an existing pair, or both.
    const byRef = ref !== null ? await db.selectFrom("conversations").selectAll().where("ref", "=", ref).executeTakeFirst() : undefined;
    if (byRef) {
      if (byRef.kind !== kind) throw conflict(`ref "${ref}" already names a ${byRef.kind} conversation`, { kind: byRef.kind });
      const view = await loadAccess(this.#storage, p, byRef.id);
      if (!canRead(p, view)) throw forbidden(`ref "${ref}" names a conversation you are not in`);
      if (directKey !== null && byRef.direct_key !== directKey) {
        throw conflict(`ref "${ref}" already names a direct conversation between other users`);
      }
      return { conversation: toConversation(byRef), members: await this.#members(byRef.id) };
    }
    const pair = directKey !== null ? await db.selectFrom("conversations").selectAll().where("direct_key", "=", directKey).executeTakeFirst() : undefined;
    if (!pair) throw new ParleyError("internal", "Conversation vanished while being created");
    const view = await loadAccess(this.#storage, p, pair.id);
    if (!canRead(p, view)) throw forbidden("The direct conversation of these users is not yours to read");
    // One conversation per pair: asked for under another ref than the pair's, it is a conflict, not a second conversation.
    if (ref !== null && pair.ref !== ref) {
      throw conflict(
        pair.ref === null
          ? `These users already have a direct conversation, without a ref`
          : `These users already have a direct conversation, with ref "${pair.ref}"`,
        { conversationId: pair.id, ref: pair.ref },
      );
    }
    return { conversation: toConversation(pair), members: await this.#members(pair.id) };
  }

  /** A conversation and its members; the caller must be able to read it. */
  async get(p: Principal, conversationId: string): Promise<ConversationWithMembers> {
    const view = await loadAccess(this.#storage, p, conversationId);
    assertRead(p, view);
    return { conversation: toConversation(view.conversation), members: await this.#members(conversationId) };
  }

  /**
   * The conversation a ref names. To someone who may not read it, the
   * answer is the same as for a ref that names nothing: refs are the host's
   * keys (`booking:42`), often guessable, and whether one exists is not
   * theirs to learn.
   */
  async getByRef(p: Principal, ref: string): Promise<ConversationWithMembers> {
    const row = await this.#storage.db.selectFrom("conversations").select("id").where("ref", "=", ref).executeTakeFirst();
    const view = row ? await loadAccess(this.#storage, p, row.id) : null;
    if (!row || !view || !canRead(p, view)) throw notFound(`No conversation has ref "${ref}"`);
    return { conversation: toConversation(view.conversation), members: await this.#members(row.id) };
  }

  async listMembers(p: Principal, conversationId: string): Promise<Member[]> {
    return (await this.get(p, conversationId)).members;
  }

  /**
   * The caller's inbox, most recent activity first; operators also see every
   * support conversation. The page is picked first on indexes (the caller's
   * memberships, and for operators `conversations_listed`), then counted
   * and described for its rows only, so the cost follows the page size, not
   * how many conversations there are.
   */
  async list(p: Principal, input: ListConversationsInput): Promise<ConversationPage> {
    const limit = input.limit ?? DEFAULT_PAGE_LIMIT;
    const db = this.#storage.db;
    const operator = isOperator(p);
    const cursor = input.cursor ? decodeActivityCursor(input.cursor) : null;
    const after = (column: "activity_at" | "listed_at") =>
      cursor
        ? sql<boolean>`(${sql.ref(`c.${column}`)} < ${cursor[0]} or (${sql.ref(`c.${column}`)} = ${cursor[0]} and c.id < ${cursor[1]}))`
        : sql<boolean>`1 = 1`;

    let mine = db
      .selectFrom("members as m")
      .innerJoin("conversations as c", "c.id", "m.conversation_id")
      .select(["c.id", "c.activity_at"])
      .where("m.user_id", "=", p.id)
      .where(after("activity_at"));
    if (input.kind) mine = mine.where("c.kind", "=", input.kind);
    if (input.status) mine = mine.where("c.status", "=", input.status);
    const candidates = await mine.orderBy("c.activity_at", "desc").orderBy("c.id", "desc").limit(limit + 1).execute();
    if (operator && (input.kind === undefined || input.kind === "support")) {
      // The queue, along `conversations_listed`: a support conversation's `listed_at` is its `activity_at`.
      let support = db
        .selectFrom("conversations as c")
        .select(["c.id", "c.activity_at"])
        .where("c.kind", "=", "support")
        .where("c.listed_at", "is not", null)
        .where(after("listed_at"));
      if (input.status) support = support.where("c.status", "=", input.status);
      candidates.push(...(await support.orderBy("c.listed_at", "desc").orderBy("c.id", "desc").limit(limit + 1).execute()));
    }
    const byActivity = (a: { activity_at: string; id: string }, b: { activity_at: string; id: string }) =>
      a.activity_at === b.activity_at ? (a.id < b.id ? 1 : a.id > b.id ? -1 : 0) : a.activity_at < b.activity_at ? 1 : -1;
    const ids = [...new Map(candidates.sort(byActivity).map((c) => [c.id, c])).values()].slice(0, limit + 1).map((c) => c.id);
    if (ids.length === 0) return { conversations: [], nextCursor: null };

    const unsorted = await db
      .selectFrom("conversations as c")
      .leftJoin("members as m", (join) => join.onRef("m.conversation_id", "=", "c.id").on("m.user_id", "=", p.id))
      .leftJoin("support_reads as sr", (join) => join.onRef("sr.conversation_id", "=", "c.id").on("sr.user_id", "=", p.id))
      .selectAll("c")
      .select(["m.last_read_seq as my_last_read_seq", "sr.last_read_seq as support_last_read_seq"])
      .select([
        // Operators count only the visitor's messages in support conversations.
        sql<number>`(select count(*) from messages x
          where x.conversation_id = c.id and x.seq > coalesce(m.last_read_seq, sr.last_read_seq, 0) and x.seq <= c.last_seq
            and x.sender_id <> ${p.id} and x.deleted_at is null
            ${operator ? sql`and (c.kind <> 'support' or x.sender_id = c.created_by)` : sql``}
            and not exists (select 1 from hidden_messages h where h.message_id = x.id and h.user_id = ${p.id}))`.as(
          "unread",
        ),
        sql<number | null>`(select max(x.seq) from messages x
          where x.conversation_id = c.id
            and not exists (select 1 from hidden_messages h where h.message_id = x.id and h.user_id = ${p.id}))`.as(
          "last_message_seq",
        ),
      ])
      .select([
        // How far the least advanced other member has got, for the status of the caller's own last message.
        sql<number | null>`(select min(o.last_read_seq) from members o where o.conversation_id = c.id and o.user_id <> ${p.id})`.as(
          "others_read_seq",
        ),
        sql<number | null>`(select min(case when o.last_delivered_seq > o.last_read_seq then o.last_delivered_seq else o.last_read_seq end)
          from members o where o.conversation_id = c.id and o.user_id <> ${p.id})`.as("others_delivered_seq"),
      ])
      .where("c.id", "in", ids)
      .execute();
    const rows = unsorted.sort(byActivity);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    const nextCursor = rows.length > limit && last ? encodeActivityCursor(last.activity_at, last.id) : null;

    const lastPairs = page.filter((r) => r.last_message_seq !== null).map((r) => [r.id, Number(r.last_message_seq)] as const);
    const lastMessages = new Map<string, Message>();
    if (lastPairs.length > 0) {
      const messages = await db
        .selectFrom("messages")
        .selectAll()
        .where((eb) => eb.or(lastPairs.map(([id, seq]) => eb.and([eb("conversation_id", "=", id), eb("seq", "=", seq)]))))
        .execute();
      for (const row of messages) lastMessages.set(row.conversation_id, this.#uploads.present(toMessage(row)));
    }

    const nonChannelIds = page.filter((r) => r.kind !== "channel").map((r) => r.id);
    const membersBy = new Map<string, ConversationSummary["members"]>();
    if (nonChannelIds.length > 0) {
      const memberRows = await db
        .selectFrom("members as m")
        .leftJoin("users as u", "u.id", "m.user_id")
        .select(["m.conversation_id", "m.user_id", "m.role", "u.name"])
        .where("m.conversation_id", "in", nonChannelIds)
        .orderBy("m.joined_at")
        .execute();
      for (const r of memberRows) {
        const list = membersBy.get(r.conversation_id) ?? [];
        list.push({ userId: r.user_id, name: r.name ?? r.user_id, role: r.role as MemberRole });
        membersBy.set(r.conversation_id, list);
      }
    }

    return {
      conversations: page.map((row) => ({
        ...toConversation(row),
        lastMessage: lastMessages.get(row.id) ?? null,
        unreadCount: Number(row.unread),
        lastMessageStatus: ownLastMessageStatus(row, lastMessages.get(row.id) ?? null, p.id),
        lastReadSeq: Number(row.my_last_read_seq ?? row.support_last_read_seq ?? 0),
        members: membersBy.get(row.id) ?? [],
      })),
      nextCursor,
    };
  }

  /**
   * What a socket gets on connecting: every conversation the user is a member
   * of, with its unread count, newest first; and, read in the same query,
   * the non-channel ones among them, where the user's presence is shown.
   */
  async sessionSummary(p: Principal): Promise<SessionSummary> {
    const rows = await loadSummaryRows(this.#storage, p.id);
    return {
      conversations: rows.map((r) => ({
        id: r.id,
        lastSeq: Number(r.last_seq),
        unread: Number(r.unread),
        lastReadSeq: Number(r.last_read_seq),
      })),
      channelIds: rows.filter((r) => r.kind === "channel").map((r) => r.id),
      presence: presenceAudienceOf(
        rows.filter((r) => r.kind !== "channel"),
        p.id,
      ),
    };
  }

  /** The channels the user is a member of, with their counters (to check a session summary against). */
  async channelCounters(p: Principal): Promise<Array<{ id: string; lastSeq: number }>> {
    return loadChannelCounters(this.#storage, p.id);
  }

  /** Who hears of a user's presence (see {@link PresenceAudience}). */
  async presenceAudience(userId: string): Promise<PresenceAudience> {
    return loadPresenceAudience(this.#storage, userId);
  }

  /** The conversation if the caller may read it; `forbidden` or `not_found` otherwise. */
  async requireReadable(p: Principal, conversationId: string): Promise<Conversation> {
    const view = await loadAccess(this.#storage, p, conversationId);
    assertRead(p, view);
    return toConversation(view.conversation);
  }

  /**
   * Of `userIds`, those whose presence the caller may see: people sharing a
   * non-channel conversation with them (operators and admins see everyone).
   */
  async visibleUsers(p: Principal, userIds: readonly string[]): Promise<string[]> {
    const unique = [...new Set(userIds)];
    if (unique.length === 0) return [];
    if (isOperator(p)) return unique;
    const rows = await this.#storage.db
      .selectFrom("members as mine")
      .innerJoin("members as theirs", "theirs.conversation_id", "mine.conversation_id")
      .innerJoin("conversations as c", "c.id", "mine.conversation_id")
      .select("theirs.user_id")
      .distinct()
      .where("mine.user_id", "=", p.id)
      .where("theirs.user_id", "in", unique)
      .where("c.kind", "<>", "channel")
      .execute();
    const visible = new Set(rows.map((r) => r.user_id));
    visible.add(p.id);
    return unique.filter((id) => visible.has(id));
  }

  /** Renames, changes metadata, closes or reopens. Owners, moderators and admins; operators for support status. */
  async update(p: Principal, conversationId: string, patch: UpdateConversationInput): Promise<ConversationWithMembers> {
    const view = await loadAccess(this.#storage, p, conversationId);
    assertRead(p, view);
    const operatorOnSupport = view.conversation.kind === "support" && isOperator(p);
    const onlyStatus = patch.title === undefined && patch.metadata === undefined;
    if (!canManage(p, view) && !(operatorOnSupport && onlyStatus)) {
      throw forbidden("Only the conversation's owners and moderators may change it");
    }
    const set: Updateable<ConversationsTable> = {};
    if (patch.title !== undefined) set.title = patch.title;
    if (patch.metadata !== undefined) set.metadata = toJson(patch.metadata);
    if (patch.status !== undefined) set.status = patch.status;
    if (Object.keys(set).length === 0) return this.get(p, conversationId);
    const row = await this.#setAndAnnounce(conversationId, set);
    return { conversation: toConversation(row), members: await this.#members(conversationId) };
  }

  /** Closes a support conversation (the visitor, any operator, or a manager). */
  async resolve(p: Principal, conversationId: string): Promise<Conversation> {
    const view = await loadAccess(this.#storage, p, conversationId);
    assertRead(p, view);
    if (view.conversation.kind !== "support") throw invalid("Only support conversations are resolved");
    return toConversation(await this.#setAndAnnounce(conversationId, { status: "closed" }));
  }

  async #setAndAnnounce(conversationId: string, set: Updateable<ConversationsTable>): Promise<ConversationRow> {
    return this.#uow.run(async (trx, emit) => {
      const row = await trx.updateTable("conversations").set(set).where("id", "=", conversationId).returningAll().executeTakeFirstOrThrow();
      emit({ type: "conversation.updated", conversation: toConversation(row), audience: await loadAudience(trx, row) });
      return row;
    });
  }

  /**
   * Joins a channel (anyone signed in), a group (global moderators) or a
   * support conversation (operators). `created` is false when the caller
   * already belonged (joining again is a no-op).
   */
  async join(p: Principal, conversationId: string): Promise<Membership & { created: boolean }> {
    const view = await loadAccess(this.#storage, p, conversationId);
    if (view.member) {
      return { conversation: toConversation(view.conversation), member: await this.#member(conversationId, p.id), created: false };
    }
    if (!canJoin(p, view.conversation)) throw forbidden("You may not join this conversation");
    const role: MemberRole = view.conversation.kind === "group" && isGlobalModerator(p) ? "moderator" : "member";
    const member = await this.addMembership(view, p.id, role, joinLabel(p));
    const row = await this.#conversationRow(conversationId);
    return { conversation: toConversation(row), member, created: true };
  }

  /** Leaves; anyone may. */
  async leave(p: Principal, conversationId: string): Promise<void> {
    const view = await loadAccess(this.#storage, p, conversationId);
    if (!view.member) throw invalid("You are not a member of this conversation");
    if (view.conversation.kind === "direct") throw invalid("A direct conversation always has its two members");
    await this.#removeMembership(view, p.id, `${p.name} left`);
  }

  /** Adds a member (owners, moderators, admins); `created` is false when they already belonged. */
  async addMember(
    p: Principal,
    conversationId: string,
    userId: string,
    role: MemberRole = "member",
  ): Promise<{ member: Member; created: boolean }> {
    const view = await loadAccess(this.#storage, p, conversationId);
    if (!canManage(p, view)) throw forbidden("Only the conversation's owners and moderators may add members");
    if (view.conversation.kind === "direct") throw invalid("A direct conversation always has its two members");
    const existing = await this.#storage.db
      .selectFrom("members")
      .select("user_id")
      .where("conversation_id", "=", conversationId)
      .where("user_id", "=", userId)
      .executeTakeFirst();
    if (existing) return { member: await this.#member(conversationId, userId), created: false };
    const user = await this.#users.getOrCreate(userId);
    return { member: await this.addMembership(view, userId, role, user.name), created: true };
  }

  /** Removes a member (owners, moderators, admins; anyone removing themselves). */
  async removeMember(p: Principal, conversationId: string, userId: string): Promise<void> {
    const view = await loadAccess(this.#storage, p, conversationId);
    if (userId !== p.id && !canManage(p, view)) throw forbidden("Only the conversation's owners and moderators may remove members");
    if (view.conversation.kind === "direct") throw invalid("A direct conversation always has its two members");
    const target = await this.#storage.db
      .selectFrom("members")
      .select("user_id")
      .where("conversation_id", "=", conversationId)
      .where("user_id", "=", userId)
      .executeTakeFirst();
    if (!target) throw notFound("No such member");
    const user = await this.#users.get(userId);
    const name = user?.name ?? userId;
    await this.#removeMembership(view, userId, userId === p.id ? `${name} left` : `${name} was removed`);
  }

  /** Inserts a membership (and its system message) and announces it once committed. */
  async addMembership(view: AccessView, userId: string, role: MemberRole, label: string): Promise<Member> {
    return this.#uow.run((trx, emit) => this.insertMembership(trx, emit, view, userId, role, label));
  }

  /**
   * Inserts a membership and, outside channels, its "… joined" system message
   * inside `trx` (a transaction: these are several statements), emitting
   * `member.joined` (and the message) for after the commit.
   */
  async insertMembership(
    trx: Db,
    emit: Emit,
    view: AccessView,
    userId: string,
    role: MemberRole,
    label: string,
  ): Promise<Member> {
    const conversationId = view.conversation.id;
    const inserted = await trx
      .insertInto("members")
      .values({
        conversation_id: conversationId,
        user_id: userId,
        role,
        joined_at: isoNow(),
        // Joining a channel starts reading at its newest message (its history stays readable): a community's
        // years of messages are not "unread" for a newcomer. In other kinds a joiner (a moderator entering a
        // dispute) is meant to read what was said, so it counts as unread; an operator joining a support
        // conversation keeps the read position they had there as a non-member.
        ...(view.conversation.kind === "channel"
          ? { last_read_seq: Number(view.conversation.last_seq) }
          : view.conversation.kind === "support"
            ? await this.#supportRead(trx, conversationId, userId)
            : {}),
      })
      .onConflict((oc) => oc.columns(["conversation_id", "user_id"]).doNothing())
      .returning("user_id")
      .executeTakeFirst();
    const member = await this.#member(conversationId, userId, trx);
    if (!inserted) return member;
    const row = await this.#conversationRow(conversationId, trx);
    const audience = await loadAudience(trx, row);
    emit({ type: "member.joined", conversation: toConversation(row), member, audience: { ...audience, joining: [userId] } });
    if (view.conversation.kind !== "channel") {
      const message = await appendMessage(trx, {
        conversationId,
        senderId: userId,
        senderName: member.name,
        type: "system",
        text: `${label} joined`,
        metadata: { event: "member.joined", userId },
      });
      const after = await this.#conversationRow(conversationId, trx);
      emit({ type: "message.created", conversation: toConversation(after), message, audience });
    }
    return member;
  }

  /** An operator's read position in a support conversation while not a member of it, as member columns. */
  async #supportRead(trx: Db, conversationId: string, userId: string): Promise<{ last_read_seq?: number; last_read_at?: string | null }> {
    const row = await trx
      .selectFrom("support_reads")
      .select(["last_read_seq", "last_read_at"])
      .where("conversation_id", "=", conversationId)
      .where("user_id", "=", userId)
      .executeTakeFirst();
    return row ? { last_read_seq: Number(row.last_read_seq), last_read_at: row.last_read_at } : {};
  }

  async #removeMembership(view: AccessView, userId: string, text: string): Promise<void> {
    const conversationId = view.conversation.id;
    await this.#uow.run(async (trx, emit) => {
      const member = await this.#member(conversationId, userId, trx);
      const before = await this.#conversationRow(conversationId, trx);
      const base = await loadAudience(trx, before);
      await trx.deleteFrom("members").where("conversation_id", "=", conversationId).where("user_id", "=", userId).execute();
      // The one leaving hears of it too (their other tabs), then no more.
      emit({ type: "member.left", conversation: toConversation(before), member, audience: base });
      if (view.conversation.kind === "channel") return;
      const message = await appendMessage(trx, {
        conversationId,
        senderId: userId,
        senderName: member.name,
        type: "system",
        text,
        metadata: { event: "member.left", userId },
      });
      const after = await this.#conversationRow(conversationId, trx);
      emit({ type: "message.created", conversation: toConversation(after), message, audience: await loadAudience(trx, after) });
    });
  }

  async #conversationRow(conversationId: string, db: Db = this.#storage.db): Promise<ConversationRow> {
    const row = await db.selectFrom("conversations").selectAll().where("id", "=", conversationId).executeTakeFirst();
    if (!row) throw notFound("No such conversation");
    return row;
  }

  async #member(conversationId: string, userId: string, trx?: Db): Promise<Member> {
    const row = await (trx ?? this.#storage.db)
      .selectFrom("members as m")
      .leftJoin("users as u", "u.id", "m.user_id")
      .selectAll("m")
      .select("u.name")
      .where("m.conversation_id", "=", conversationId)
      .where("m.user_id", "=", userId)
      .executeTakeFirst();
    if (!row) throw notFound("No such member");
    return toMember(row);
  }

  async #members(conversationId: string): Promise<Member[]> {
    const rows = await this.#storage.db
      .selectFrom("members as m")
      .leftJoin("users as u", "u.id", "m.user_id")
      .selectAll("m")
      .select("u.name")
      .where("m.conversation_id", "=", conversationId)
      .orderBy("m.joined_at")
      .orderBy("m.user_id")
      .execute();
    return rows.map(toMember);
  }
}
