import { sql, type CompiledQuery, type Expression, type InferResult, type Kysely, type Selectable } from "kysely";
import { BatchLoader } from "../storage/batch-loader.js";
import { preparedStatement, type Storage } from "../storage/database.js";
import type { ConversationsTable, Database, MembersTable } from "../storage/schema.js";
import type { Audience } from "./domain-events.js";
import type { Db } from "./unit-of-work.js";
import { forbidden, notFound } from "./parley-error.js";
import { isAdmin, isGlobalModerator, isGuest, isOperator, type Principal } from "./principal.js";

type ConversationRow = Selectable<ConversationsTable>;
type MemberRow = Selectable<MembersTable>;

/** A conversation as one principal sees it: the row and their membership, if any. */
export interface AccessView {
  readonly conversation: ConversationRow;
  readonly member: MemberRow | null;
}

const CONVERSATION_PLACEHOLDER = "\u0000conversation";
const USER_PLACEHOLDER = "\u0000user";

/** The ids as values, or (batched) as references to the columns of each input row. */
type Id = string | Expression<string>;

export function accessQuery(db: Kysely<Database>, conversationId: Id, userId: Id) {
  // One round trip: the conversation and, joined, the caller's membership.
  return db
    .selectFrom("conversations as c")
    .leftJoin("members as m", (join) => join.onRef("m.conversation_id", "=", "c.id").on("m.user_id", "=", userId))
    .selectAll("c")
    .select([
      "m.user_id as m_user_id",
      "m.role as m_role",
      "m.joined_at as m_joined_at",
      "m.last_read_seq as m_last_read_seq",
      "m.last_read_at as m_last_read_at",
      "m.last_delivered_seq as m_last_delivered_seq",
    ])
    .where("c.id", "=", conversationId);
}

/** The conversation's columns and, as `m_<column>`, the caller's membership (null when not a member). */
export type AccessRow = InferResult<ReturnType<typeof accessQuery>>[number];

/**
 * The access query compiled once per database, with placeholders where the
 * ids go. Every event a client sends loads access first, and building and
 * compiling the query each time cost more than SQLite took to run it.
 */
const compiledAccess = new WeakMap<Kysely<Database>, CompiledQuery<AccessRow>>();

function accessQueryFor(db: Kysely<Database>, conversationId: string, userId: string): CompiledQuery<AccessRow> {
  let template = compiledAccess.get(db);
  if (!template) {
    template = accessQuery(db, CONVERSATION_PLACEHOLDER, USER_PLACEHOLDER).compile();
    compiledAccess.set(db, template);
  }
  const parameters = template.parameters.map((value) =>
    value === CONVERSATION_PLACEHOLDER ? conversationId : value === USER_PLACEHOLDER ? userId : value,
  );
  return { ...template, parameters };
}

/**
 * On PostgreSQL nearly every event a client sends starts with this lookup;
 * the lookups of concurrent events go together in one statement (see
 * {@link BatchLoader}), on `Storage.batchDb`. History and sync, whose page
 * follows on the same connection, look up by themselves (`loadAccess`'s `on`).
 */
function accessLoader(db: Kysely<Database>): BatchLoader<{ conversationId: string; userId: string }, AccessRow | undefined> {
  // The same access query, run for each (conversation, user) pair of the batch.
  const each = accessQuery(db, sql.ref<string>("k.conversation_id"), sql.ref<string>("k.user_id"));
  return new BatchLoader(async (keys) => {
    const { rows } = await sql<AccessRow & { ord: number }>`
      select k.ord, a.*
      from unnest(${keys.map((k) => k.conversationId)}::text[], ${keys.map((k) => k.userId)}::text[])
        with ordinality as k(conversation_id, user_id, ord)
      cross join lateral (${each}) a`.execute(db);
    const byOrd = new Map(rows.map(({ ord, ...row }) => [Number(ord), row as AccessRow]));
    return keys.map((_, i) => byOrd.get(i + 1));
  });
}

const accessLoaders = new WeakMap<Storage, ReturnType<typeof accessLoader>>();

function accessLoaderFor(storage: Storage): ReturnType<typeof accessLoader> {
  let loader = accessLoaders.get(storage);
  if (!loader) accessLoaders.set(storage, (loader = accessLoader(storage.batchDb)));
  return loader;
}

/**
 * Loads a conversation and the caller's membership; `not_found` when there
 * is no such conversation. With `on` (PostgreSQL: one connection, see
 * `Kysely#connection`), the lookup runs there by itself rather than in a
 * batch, for a request whose next statement goes to the same connection.
 */
export async function loadAccess(storage: Storage, principal: Principal, conversationId: string, on?: Kysely<Database>): Promise<AccessView> {
  let row: AccessRow | undefined;
  if (storage.sqlite) {
    const query = accessQueryFor(storage.db, conversationId, principal.id);
    // Every client event starts here, so on SQLite it runs directly on the
    // connection (see `Storage.sqlite`), unless a transaction is open on it,
    // whose writes are not committed yet: then through Kysely, after it.
    row = storage.sqlite.inTransaction
      ? (await storage.db.executeQuery(query)).rows[0]
      : (preparedStatement(storage.sqlite, query.sql).get(...query.parameters) as AccessRow | undefined);
  } else if (on) {
    row = (await on.executeQuery(accessQueryFor(storage.db, conversationId, principal.id))).rows[0];
  } else {
    row = await accessLoaderFor(storage).load({ conversationId, userId: principal.id });
  }
  if (!row) throw notFound("No such conversation");
  return toAccessView(row);
}

/** Splits an access row into the conversation and the caller's membership. */
export function toAccessView(row: AccessRow): AccessView {
  const { m_user_id, m_role, m_joined_at, m_last_read_seq, m_last_read_at, m_last_delivered_seq, ...conversation } = row;
  const member: MemberRow | null =
    m_user_id === null
      ? null
      : {
          conversation_id: conversation.id,
          user_id: m_user_id,
          role: m_role!,
          joined_at: m_joined_at!,
          last_read_seq: Number(m_last_read_seq),
          last_read_at: m_last_read_at,
          last_delivered_seq: Number(m_last_delivered_seq),
        };
  return { conversation, member };
}

/** Members read; anyone signed in (not guests) reads channels; operators read support conversations. */
export function canRead(p: Principal, v: AccessView): boolean {
  if (v.member || isAdmin(p)) return true;
  if (v.conversation.kind === "channel") return !isGuest(p);
  if (v.conversation.kind === "support") return isOperator(p);
  return false;
}

export function assertRead(p: Principal, v: AccessView): void {
  if (!canRead(p, v)) throw forbidden("You are not a member of this conversation");
}

/** "Sam (moderator) joined": the global role that explains why someone could join. */
export function joinLabel(p: Principal): string {
  const role = p.roles.includes("moderator") ? "moderator" : p.roles.includes("operator") ? "operator" : null;
  return role ? `${p.name} (${role})` : p.name;
}

/** Who may join without being added: channels (not guests), groups (global moderators), support (operators). */
export function canJoin(p: Principal, conversation: ConversationRow): boolean {
  if (p.kind === "system") return false;
  switch (conversation.kind) {
    case "channel":
      return !isGuest(p);
    case "group":
      return isGlobalModerator(p);
    case "support":
      return isOperator(p);
    default:
      return false;
  }
}

/**
 * May the caller post here? `member`: yes; `join`: yes, and posting makes
 * them a member (channels, operators answering support); `admin`: yes without
 * joining; `false`: no.
 */
export function postAccess(p: Principal, v: AccessView): "member" | "join" | "admin" | false {
  if (v.member) return "member";
  if (p.kind === "system") return "admin";
  if (v.conversation.kind === "channel" && !isGuest(p)) return "join";
  if (v.conversation.kind === "support" && isOperator(p)) return "join";
  if (isAdmin(p)) return "admin";
  return false;
}

/** Owners and moderators of the conversation, and admins, may rename it and manage members. */
export function canManage(p: Principal, v: AccessView): boolean {
  return isAdmin(p) || v.member?.role === "owner" || v.member?.role === "moderator";
}

/**
 * Sender, conversation owner/moderator, a global moderator in it (or any
 * channel), an admin. A system notice ("Sam (moderator) joined") is the
 * conversation's record, not its subject's message: only an admin removes it.
 */
export function canDeleteForEveryone(p: Principal, v: AccessView, message: { senderId: string; type: string }): boolean {
  if (message.type === "system") return isAdmin(p);
  if (message.senderId === p.id || canManage(p, v)) return true;
  return isGlobalModerator(p) && (v.member !== null || v.conversation.kind === "channel");
}

/**
 * Who hears about changes in a conversation, given its member ids: the
 * members, sockets watching it (readers who opened it), and for support
 * every operator. A channel's members are reached through the channel's room
 * (their sockets join it), so a channel needs no member ids.
 */
export function audienceOf(kind: string, memberIds: readonly string[]): Audience {
  if (kind === "channel") return { userIds: [], watchers: true, operators: false, channelMembers: true };
  return { userIds: memberIds, watchers: true, operators: kind === "support", channelMembers: false };
}

/** {@link audienceOf}, with `userIds` just become members of it (a channel's room takes their sockets first). */
export function audienceJoining(kind: string, memberIds: readonly string[], userIds: readonly string[]): Audience {
  return kind === "channel" ? { ...audienceOf(kind, memberIds), joining: userIds } : audienceOf(kind, memberIds);
}

/** Only this user's own sockets (a "delete for me", a read receipt in a channel). */
export function onlyUser(userId: string): Audience {
  return { userIds: [userId], watchers: false, operators: false, channelMembers: false };
}

/** Loads the member ids a conversation's events go to (none needed for channels). */
export async function loadAudience(db: Db, conversation: ConversationRow): Promise<Audience> {
  if (conversation.kind === "channel") return audienceOf("channel", []);
  const rows = await db
    .selectFrom("members")
    .select("user_id")
    .where("conversation_id", "=", conversation.id)
    .execute();
  return audienceOf(
    conversation.kind,
    rows.map((r) => r.user_id),
  );
}
