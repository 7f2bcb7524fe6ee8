import { randomFillSync } from "node:crypto";
import { v7 as uuidv7 } from "uuid";
import type { Message, MessageType } from "@parley/protocol";
import { sql, type Insertable, type Kysely, type Selectable, type Transaction } from "kysely";
import type SqliteDatabase from "better-sqlite3";
import { preparedStatement } from "./database.js";
import { StatementMerger } from "./merged-statements.js";
import { isoNow, toJson, toMessage } from "./mappers.js";
import type { ConversationsTable, Database, MessagesTable } from "./schema.js";

type Db = Kysely<Database> | Transaction<Database>;

/** Random bytes for this many ids are drawn at once. */
const IDS_PER_DRAW = 256;
const entropy = new Uint8Array(16 * IDS_PER_DRAW);
let entropyUsed = entropy.length;
/** The time and counter of the last id, so that ids made in one millisecond still ascend. */
const clock = { msecs: -Infinity, seq: 0 };

/**
 * A new message id: a UUIDv7, which starts with the time, so new rows land at
 * the right-hand end of the primary-key index instead of on a random page
 * (each random insert dirties a page of its own, which a commit then writes).
 * Clients treat ids as opaque strings and order by `seq`.
 *
 * `uuid` draws 16 random bytes from `crypto.getRandomValues` for every id
 * it makes, about 5 µs each on Node 20 (4 to 5 % of the server's time in a
 * fanout profile); here they come from one draw per {@link IDS_PER_DRAW}
 * ids, as Node's own `randomUUID` does. The counter within a millisecond
 * follows uuid's own (RFC 9562, method 1): seeded from the random bytes on
 * a new millisecond, incremented otherwise.
 */
export function newMessageId(): string {
  if (entropyUsed === entropy.length) {
    randomFillSync(entropy);
    entropyUsed = 0;
  }
  const random = entropy.subarray(entropyUsed, (entropyUsed += 16));
  const now = Date.now();
  if (now > clock.msecs) {
    clock.msecs = now;
    clock.seq = ((random[6]! & 0x7f) << 24) | (random[7]! << 16) | (random[8]! << 8) | random[9]!;
  } else {
    clock.seq = (clock.seq + 1) | 0;
    if (clock.seq === 0) clock.msecs++;
  }
  return uuidv7({ random, msecs: clock.msecs, seq: clock.seq });
}

/** A new message's fields; `seq` and `revSeq` come from the conversation's counter. */
export interface NewMessage {
  /** @default {@link newMessageId} */
  id?: string;
  conversationId: string;
  senderId: string;
  senderName: string;
  type: MessageType;
  text: string | null;
  attachments?: unknown[];
  replyTo?: string | null;
  metadata?: Record<string, unknown>;
  clientId?: string | null;
}

/**
 * Takes the conversation's next `seq`. Call inside the transaction that
 * makes the change, so the counter and the change commit together (and, on
 * PostgreSQL, concurrent writers to one conversation queue on its row lock).
 */
export async function nextSeq(db: Db, conversationId: string, touchActivity: string | null): Promise<number> {
  const row = await db
    .updateTable("conversations")
    .set((eb) => ({
      last_seq: eb("last_seq", "+", 1),
      ...(touchActivity ? { last_message_at: touchActivity, activity_at: touchActivity, listed_at: listedAt(touchActivity) } : {}),
    }))
    .where("id", "=", conversationId)
    .returning("last_seq")
    .executeTakeFirstOrThrow();
  return Number(row.last_seq);
}

/** The stored row of a new message that took `seq`. */
function newMessageRow(input: NewMessage, seq: number, now: string): Insertable<MessagesTable> & Selectable<MessagesTable> {
  return {
    id: input.id ?? newMessageId(),
    conversation_id: input.conversationId,
    seq,
    rev_seq: seq,
    sender_id: input.senderId,
    sender_name: input.senderName,
    type: input.type,
    text: input.text,
    attachments: toJson(input.attachments ?? []),
    reply_to: input.replyTo ?? null,
    metadata: toJson(input.metadata ?? {}),
    client_id: input.clientId ?? null,
    created_at: now,
    edited_at: null,
    deleted_at: null,
    reactions: toJson({}),
  };
}

/** Appends a message with the next `seq`; call inside a transaction. */
export async function appendMessage(db: Db, input: NewMessage): Promise<Message> {
  const now = isoNow();
  const seq = await nextSeq(db, input.conversationId, now);
  const row = await db
    .insertInto("messages")
    .values(newMessageRow(input, seq, now))
    .returningAll()
    .executeTakeFirstOrThrow();
  return toMessage(row);
}

/**
 * The `listed_at` of a conversation of `kind` whose activity is `at`: that
 * time for the kinds in the lists everyone shares (support queue, channel
 * directory), null for the rest (see migration 0008).
 */
export function listedAtOf(kind: string, at: string): string | null {
  return kind === "support" || kind === "channel" ? at : null;
}

/**
 * The `listed_at` an update of a conversation's activity to `?` sets: that
 * time where the conversation is listed, and its own value (null) elsewhere,
 * so that the update changes no indexed column's value and moves no index
 * entry (see migration 0008). As a string for the SQLite statements written
 * out below; {@link listedAt} for the others.
 */
const LISTED_AT_SQL = "case when kind in ('support', 'channel') then ? else listed_at end";

/** {@link LISTED_AT_SQL} with `at` bound, in a Kysely update or statement. */
function listedAt(at: string) {
  return sql<string | null>`case when kind in ('support', 'channel') then ${at} else listed_at end`;
}

const BUMP_SQL = `update conversations set last_seq = last_seq + 1, last_message_at = ?, activity_at = ?, listed_at = ${LISTED_AT_SQL} where id = ? returning last_seq`;
const INSERT_SQL =
  "insert into messages (id, conversation_id, seq, rev_seq, sender_id, sender_name, type, text, attachments, reply_to, metadata, client_id, created_at, edited_at, deleted_at, reactions) " +
  "values (@id, @conversation_id, @seq, @rev_seq, @sender_id, @sender_name, @type, @text, @attachments, @reply_to, @metadata, @client_id, @created_at, @edited_at, @deleted_at, @reactions)";
const READ_UP_TO_SQL =
  "update members set last_read_seq = ?, last_read_at = ? where conversation_id = ? and user_id = ? and last_read_seq < ?";
const MEMBER_IDS_SQL = "select user_id from members where conversation_id = ?";

/**
 * A send on SQLite, as statements run directly on the connection (see
 * `Storage.sqlite`), inside the transaction the caller has open on it: the
 * same steps as {@link appendMessage} and the read position, without
 * Kysely's cost around each of them.
 */
function appendOnSqlite(sqlite: SqliteDatabase.Database, input: NewMessage, withMembers: boolean): SentMessage {
  const now = isoNow();
  const bumped = preparedStatement(sqlite, BUMP_SQL).get(now, now, now, input.conversationId) as { last_seq: number } | undefined;
  if (!bumped) throw new Error(`no conversation ${input.conversationId}`);
  return storeOnSqlite(sqlite, input, Number(bumped.last_seq), now, withMembers);
}

/**
 * The bump of {@link appendAsMember} on SQLite: it moves the counter only
 * when the sender is a member and the conversation is open, and returns the
 * conversation as it left it, so that the send needs no access check of its
 * own (the membership is a primary-key probe inside the update).
 */
const BUMP_AS_MEMBER_SQL =
  `update conversations set last_seq = last_seq + 1, last_message_at = ?, activity_at = ?, listed_at = ${LISTED_AT_SQL} ` +
  "where id = ? and status <> 'closed' and exists (select 1 from members m where m.conversation_id = conversations.id and m.user_id = ?) " +
  "returning *";

/** {@link appendAsMember} on SQLite: `null`, with nothing written, unless a member sends in an open conversation. */
function appendAsMemberOnSqlite(sqlite: SqliteDatabase.Database, input: NewMessage): MemberSentMessage | null {
  const now = isoNow();
  const conversation = preparedStatement(sqlite, BUMP_AS_MEMBER_SQL).get(now, now, now, input.conversationId, input.senderId) as
    | Selectable<ConversationsTable>
    | undefined;
  if (!conversation) return null;
  // The conversation as this message left it: `last_seq` is the message's seq.
  const sent = storeOnSqlite(sqlite, input, conversation.last_seq, now, conversation.kind !== "channel");
  return { ...sent, conversation };
}

/** The message that took `seq`, stored; the sender's read position moved to it; the member ids when asked for. */
function storeOnSqlite(sqlite: SqliteDatabase.Database, input: NewMessage, seq: number, now: string, withMembers: boolean): SentMessage {
  // The row is what was given, every column set: reading it back
  // (`returning *`) cost about 6 µs a send, two fifths of the insert.
  const row = newMessageRow(input, seq, now);
  preparedStatement(sqlite, INSERT_SQL).run(row);
  preparedStatement(sqlite, READ_UP_TO_SQL).run(seq, now, input.conversationId, input.senderId, seq);
  const memberIds = withMembers
    ? (preparedStatement(sqlite, MEMBER_IDS_SQL).all(input.conversationId) as Array<{ user_id: string }>).map((r) => r.user_id)
    : null;
  return { message: toMessage(row), memberIds };
}

/** A sent message as stored, and the conversation's member ids when asked for. */
export interface SentMessage {
  message: Message;
  memberIds: string[] | null;
}

/** A message {@link appendAsMember} stored, with the conversation as the send left it. */
export interface MemberSentMessage extends SentMessage {
  conversation: Selectable<ConversationsTable>;
}

/**
 * Appends a message from its sender (call inside a transaction): takes the
 * next `seq`, stores the message, moves the sender's read position to it
 * (replying means having read what came before) and, with `withMembers`,
 * reads the member ids its event goes to. On SQLite (`sqlite` given: the
 * connection `db` runs on) the steps run one by one as statements on the
 * connection. On PostgreSQL the sends that reach this point in the same
 * turn of the event loop inside one transaction (a commit group, see
 * `CommitGroup`) are stored by one statement and one round trip, whatever
 * their conversations: statements, not rows, are what a send costs there.
 * There a send whose clientId its sender already used (a retry) is not
 * stored and resolves to `null`, so the rest of its group still commits; on
 * SQLite the unique index refuses it.
 */
export async function appendSentMessage(
  db: Db,
  sqlite: SqliteDatabase.Database | null,
  input: NewMessage,
  withMembers: boolean,
): Promise<SentMessage | null> {
  if (sqlite) return appendOnSqlite(sqlite, input, withMembers);
  return appends.add(db, { input, withMembers, asMember: false });
}

/**
 * A member's plain send, with the access check inside the append (call
 * inside a commit group, as {@link appendSentMessage}): the message is
 * stored only if its sender is a member of the conversation and the
 * conversation is open. It resolves to `null`, storing nothing, when it is
 * not (no such conversation, not a member, closed) or, on PostgreSQL, when
 * its clientId is taken (on SQLite the unique index refuses it): the caller
 * then takes the path that finds out which and answers it. The member ids
 * come with it unless the conversation is a channel. On PostgreSQL the
 * check is part of the group's one append statement; on SQLite (`sqlite`
 * given) part of the statement that takes the conversation's next `seq`.
 */
export function appendAsMember(db: Db, sqlite: SqliteDatabase.Database | null, input: NewMessage): Promise<MemberSentMessage | null> {
  if (sqlite) return Promise.resolve(appendAsMemberOnSqlite(sqlite, input));
  return appends.add(db, { input, withMembers: true, asMember: true }) as Promise<MemberSentMessage | null>;
}

/** One send of an append statement: the message, and what the statement does with it. */
export interface AppendItem {
  input: NewMessage;
  withMembers: boolean;
  /** Store it only if the sender is a member and the conversation open; return the conversation. */
  asMember: boolean;
}

/**
 * The conversation's columns the append returns for {@link appendAsMember},
 * as `c_<column>`; not its `last_seq`, `last_message_at`, `activity_at` and
 * `listed_at`, which the send itself set (the message's seq, and the send's
 * time where the conversation is listed).
 */
const CONVERSATION_COLUMNS = [
  "kind",
  "ref",
  "direct_key",
  "title",
  "metadata",
  "status",
  "created_by",
  "created_at",
] as const satisfies ReadonlyArray<keyof ConversationsTable>;

type ConversationColumns = { [K in (typeof CONVERSATION_COLUMNS)[number] as `c_${K}`]: Selectable<ConversationsTable>[K] | null };
/**
 * A row of the append: what the database decided (the message's `seq`,
 * the member ids, the conversation) and the id it is matched by. The rest
 * of the message is what the send gave, so it is not read back: parsing
 * those columns was about a fifth of the Node CPU a send's storage took.
 */
type AppendedRow = { id: string; seq: number; member_ids: string[] | null } & ConversationColumns;

/**
 * The statement that stores a group's sends at `now`, the message of
 * `batch[i]` under `ids[i]` (see {@link appendSentMessage}); its rows are
 * the stored messages, with the member ids and (for `asMember`) the
 * conversation's columns.
 */
export function appendStatement(batch: readonly AppendItem[], ids: readonly string[], now: string) {
  const column = <T>(pick: (input: NewMessage, item: AppendItem) => T) => batch.map((b) => pick(b.input, b));
  // Statements of one WITH see the tables as they were before it: `members`
  // below still lists everyone (no one joins or leaves in a send), and the
  // read-position update takes its seq from the inserted rows. Each
  // conversation's counter moves once by its number of new messages, which
  // are numbered in the order they arrived.
  // A send made with `asMember` counts only from a member of an open
  // conversation, and gets the conversation's columns back (`c_…`).
  return sql<AppendedRow>`
    with given as (
      select * from unnest(
        ${ids}::text[], ${column((i) => i.conversationId)}::text[], ${column((i) => i.senderId)}::text[],
        ${column((i) => i.senderName)}::text[], ${column((i) => i.type)}::text[], ${column((i) => i.text)}::text[],
        ${column((i) => toJson(i.attachments ?? []))}::jsonb[], ${column((i) => i.replyTo ?? null)}::text[],
        ${column((i) => toJson(i.metadata ?? {}))}::jsonb[], ${column((i) => i.clientId ?? null)}::text[],
        ${column((_, b) => b.withMembers)}::boolean[], ${column((_, b) => b.asMember)}::boolean[]
      ) with ordinality as i(id, conversation_id, sender_id, sender_name, type, text, attachments, reply_to, metadata,
        client_id, with_members, as_member, ord)
    ), input as (
      -- A clientId already stored, or given twice, is a retry: the first is
      -- kept and the others are answered with it, without failing the batch.
      select * from (
        select g.*, row_number() over (partition by g.sender_id, coalesce(g.client_id, g.id) order by g.ord) as nth
        from given g
        -- Both checks are scalar subqueries, looked up by key for each
        -- row. An EXISTS under OR may be planned as a hash of the whole
        -- table instead, and a plan made while the table was small stays
        -- with the connection: measured in a loop of groups of 64 sends,
        -- 25.7 ms a group at 32,000 stored messages, against 5.1 ms.
        where (g.client_id is null
            or (select true from messages x where x.sender_id = g.sender_id and x.client_id = g.client_id) is null)
          and (not g.as_member
            or coalesce((select c.status <> 'closed' from members m join conversations c on c.id = m.conversation_id
                         where m.conversation_id = g.conversation_id and m.user_id = g.sender_id), false))
      ) fresh
      where nth = 1
    ), counts as (
      select conversation_id, count(*) as n from input group by conversation_id
    ), bump as (
      update conversations c set last_seq = c.last_seq + counts.n, last_message_at = ${now}::timestamptz, activity_at = ${now}::timestamptz,
        listed_at = ${listedAt(now)}
      from counts
      where c.id = counts.conversation_id
      returning c.id, c.last_seq - counts.n as first_seq, ${sql.raw(CONVERSATION_COLUMNS.map((k) => `c.${k} as c_${k}`).join(", "))}
    ), numbered as (
      select i.*, b.first_seq + row_number() over (partition by i.conversation_id order by i.ord) as seq,
        ${sql.raw(CONVERSATION_COLUMNS.map((k) => `b.c_${k}`).join(", "))}
      from input i join bump b on b.id = i.conversation_id
    ), inserted as (
      insert into messages (id, conversation_id, seq, rev_seq, sender_id, sender_name, type, text, attachments,
        reply_to, metadata, client_id, created_at, edited_at, deleted_at, reactions)
      select id, conversation_id, seq, seq, sender_id, sender_name, type, text, attachments, reply_to, metadata, client_id,
        ${now}::timestamptz, null, null, '{}'::jsonb
      from numbered
      returning conversation_id, sender_id, seq
    ), read as (
      update members set last_read_seq = r.seq, last_read_at = ${now}::timestamptz
      from (select conversation_id, sender_id, max(seq) as seq from inserted group by conversation_id, sender_id) r
      where members.conversation_id = r.conversation_id and members.user_id = r.sender_id and members.last_read_seq < r.seq
    )
    -- The stored rows, from the insert's input: joining its returned rows
    -- back to the input by id would be planned as a nested loop over both
    -- (the planner expects one row of each).
    select n.id, n.seq,
      case when n.with_members and (not n.as_member or n.c_kind <> 'channel')
        then (select coalesce(array_agg(user_id), '{}') from members where members.conversation_id = n.conversation_id)
      end as member_ids,
      ${sql.raw(CONVERSATION_COLUMNS.map((k) => `case when n.as_member then n.c_${k} end as c_${k}`).join(", "))}
    from numbered n`;
}

/** Sends that reach one transaction together, stored by one append statement. */
const appends = new StatementMerger<AppendItem, SentMessage | null>(async (db, batch) => {
  const items = batch.map((b) => b.item);
  const ids = items.map((b) => b.input.id ?? newMessageId());
  const now = isoNow();
  const { rows } = await appendStatement(items, ids, now).execute(db);
  const byId = new Map(rows.map((row) => [row.id, row]));
  batch.forEach(({ item, resolve, reject }, i) => {
    const row = byId.get(ids[i]!);
    if (!row && (item.input.clientId != null || item.asMember)) return resolve(null);
    if (!row) return reject(new Error(`no conversation ${item.input.conversationId} to append to`));
    // Stored as given, at `now` (which reads back the same: see `timestamptzToIso`).
    const message = toMessage(newMessageRow({ ...item.input, id: ids[i] }, Number(row.seq), now));
    const member_ids = row.member_ids;
    if (!item.asMember) return resolve({ message, memberIds: member_ids });
    const conversation: Selectable<ConversationsTable> = {
      id: message.conversationId,
      kind: row.c_kind!,
      ref: row.c_ref,
      direct_key: row.c_direct_key,
      title: row.c_title,
      metadata: row.c_metadata!,
      status: row.c_status!,
      created_by: row.c_created_by,
      created_at: row.c_created_at!,
      // The send set these to its own time.
      last_message_at: now,
      activity_at: now,
      listed_at: listedAtOf(row.c_kind!, now),
      // The conversation as this message left it, as on the other path.
      last_seq: message.seq,
    };
    const sent: MemberSentMessage = { message, memberIds: member_ids, conversation };
    resolve(sent);
  });
});

/** Re-reads one message. */
export async function findMessage(db: Db, conversationId: string, messageId: string): Promise<Message | null> {
  const row = await db
    .selectFrom("messages")
    .selectAll()
    .where("id", "=", messageId)
    .where("conversation_id", "=", conversationId)
    .executeTakeFirst();
  return row ? toMessage(row) : null;
}

/**
 * The newest `limit + 1` messages before `beforeSeq` (or the newest), newest
 * first, without those `viewerId` hid: a keyset walk of
 * `(conversation_id, seq)`. Returned unexecuted so its plan can be checked.
 */
export function historyPageQuery(db: Db, conversationId: string, viewerId: string, beforeSeq: number | undefined, limit: number) {
  let query = db
    .selectFrom("messages as m")
    .selectAll("m")
    .where("m.conversation_id", "=", conversationId)
    .where(sql<boolean>`not exists (select 1 from hidden_messages h where h.message_id = m.id and h.user_id = ${viewerId})`);
  if (beforeSeq !== undefined) query = query.where("m.seq", "<", beforeSeq);
  return query.orderBy("m.seq", "desc").limit(limit + 1);
}

/**
 * Up to `limit + 1` messages changed after `afterSeq` and up to `lastSeq`, in
 * `rev_seq` order, each with when `viewerId` hid it (if they did). A message
 * untouched since it was sent has `rev_seq = seq`; one edited, deleted or
 * reacted to since has a later `rev_seq` (see migration 0007). So the page is
 * two keyset walks merged: the untouched messages along `(conversation_id,
 * seq)` and the touched ones along `messages_conversation_changed`, each
 * already in `rev_seq` order and cut at the page's length. Returned
 * unexecuted so its plan can be checked.
 *
 * The untouched walk passes over the touched messages in its range, so it
 * stops where the page must end anyway: at the `rev_seq` of the touched
 * walk's last row when that walk fills the page. A conversation whose
 * messages were mostly changed long after they were sent (a user's
 * messages erased, old posts reacted to) then costs a catch-up one pass
 * over them in all, not one per page.
 */
export function syncPageQuery(db: Db, conversationId: string, viewerId: string, afterSeq: number, lastSeq: number, limit: number) {
  // Untouched messages by `seq` (which is their `rev_seq`), touched ones by `rev_seq`: a page's worth of each, after the cursor.
  const walk = (by: "seq" | "rev_seq") =>
    db
      .selectFrom("messages")
      .where("conversation_id", "=", conversationId)
      .where(by, ">", afterSeq)
      .whereRef("rev_seq", by === "seq" ? "=" : "<>", "seq")
      .orderBy(by, "asc")
      .limit(limit + 1);
  const touched = walk("rev_seq").where("rev_seq", "<=", lastSeq);
  const touchedEnd = db
    .selectFrom(touched.select("rev_seq").as("e"))
    .select(sql<number>`case when count(*) > ${limit} then max(e.rev_seq) else ${lastSeq} end`.as("end"));
  const untouched = walk("seq").where("seq", "<=", touchedEnd);
  // Each walk in a subquery of its own: SQLite allows no ORDER BY or LIMIT on a member of a UNION.
  const changed = db
    .selectFrom(untouched.selectAll().as("u"))
    .selectAll()
    .unionAll(db.selectFrom(touched.selectAll().as("t")).selectAll());
  return db
    .selectFrom(changed.as("m"))
    .leftJoin("hidden_messages as h", (join) => join.onRef("h.message_id", "=", "m.id").on("h.user_id", "=", viewerId))
    .selectAll("m")
    .select("h.hidden_at")
    .orderBy("m.rev_seq", "asc")
    .limit(limit + 1);
}
