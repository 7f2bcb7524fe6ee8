import { v7 as uuidv7 } from "uuid";
import type { Message, MessageType } from "@parley/protocol";
import { sql, type Insertable, type Kysely, type Selectable, type Transaction } from "kysely";
import type SqliteDatabase from "better-sqlite3";
import { preparedStatement } from "./database.js";
import { isoNow, toJson, toMessage } from "./mappers.js";
import type { Database, MessagesTable } from "./schema.js";

type Db = Kysely<Database> | Transaction<Database>;

/**
 * A new message id: a UUIDv7, which starts with the time, so new rows land at
 * the right-hand end of the primary-key index instead of on a random page
 * (each random insert dirties a page of its own, which a commit then writes).
 * Clients treat ids as opaque strings and order by `seq`.
 */
export function newMessageId(): string {
  return uuidv7();
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
      ...(touchActivity ? { last_message_at: touchActivity, activity_at: touchActivity } : {}),
    }))
    .where("id", "=", conversationId)
    .returning("last_seq")
    .executeTakeFirstOrThrow();
  return Number(row.last_seq);
}

/** The stored row of a new message that took `seq`. */
function newMessageRow(input: NewMessage, seq: number, now: string): Insertable<MessagesTable> & { id: string } {
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

const BUMP_SQL = "update conversations set last_seq = last_seq + 1, last_message_at = ?, activity_at = ? where id = ? returning last_seq";
const INSERT_SQL =
  "insert into messages (id, conversation_id, seq, rev_seq, sender_id, sender_name, type, text, attachments, reply_to, metadata, client_id, created_at, edited_at, deleted_at, reactions) " +
  "values (@id, @conversation_id, @seq, @rev_seq, @sender_id, @sender_name, @type, @text, @attachments, @reply_to, @metadata, @client_id, @created_at, @edited_at, @deleted_at, @reactions) returning *";
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
  const bumped = preparedStatement(sqlite, BUMP_SQL).get(now, now, input.conversationId) as { last_seq: number } | undefined;
  if (!bumped) throw new Error(`no conversation ${input.conversationId}`);
  const seq = Number(bumped.last_seq);
  const row = preparedStatement(sqlite, INSERT_SQL).get(newMessageRow(input, seq, now)) as Selectable<MessagesTable>;
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
  let batch = appendBatches.get(db);
  if (!batch) {
    const fresh: PendingAppend[] = [];
    appendBatches.set(db, fresh);
    batch = fresh;
    // Sends of one group reach here within a few microtasks of each other:
    // a tick callback runs once those have all run, before the event loop
    // turns to other I/O (a send that reaches here later, after I/O of its
    // own, goes in a statement of its own in the same transaction).
    process.nextTick(() => {
      appendBatches.delete(db);
      void appendBatch(db, fresh);
    });
  }
  return new Promise<SentMessage | null>((resolve, reject) => batch.push({ input, withMembers, resolve, reject }));
}

interface PendingAppend {
  input: NewMessage;
  withMembers: boolean;
  resolve: (sent: SentMessage | null) => void;
  reject: (err: unknown) => void;
}

/** Appends waiting for their statement, per transaction. */
const appendBatches = new WeakMap<Db, PendingAppend[]>();

async function appendBatch(db: Db, batch: PendingAppend[]): Promise<void> {
  const now = isoNow();
  const ids = batch.map((b) => b.input.id ?? newMessageId());
  const column = <T>(pick: (input: NewMessage, item: PendingAppend) => T) => batch.map((b) => pick(b.input, b));
  // Statements of one WITH see the tables as they were before it: `members`
  // below still lists everyone (no one joins or leaves in a send), and the
  // read-position update takes its seq from the inserted rows. Each
  // conversation's counter moves once by its number of new messages, which
  // are numbered in the order they arrived.
  let rows: Array<Selectable<MessagesTable> & { member_ids: string[] | null }>;
  try {
    ({ rows } = await sql<Selectable<MessagesTable> & { member_ids: string[] | null }>`
      with given as (
        select * from unnest(
          ${ids}::text[], ${column((i) => i.conversationId)}::text[], ${column((i) => i.senderId)}::text[],
          ${column((i) => i.senderName)}::text[], ${column((i) => i.type)}::text[], ${column((i) => i.text)}::text[],
          ${column((i) => toJson(i.attachments ?? []))}::jsonb[], ${column((i) => i.replyTo ?? null)}::text[],
          ${column((i) => toJson(i.metadata ?? {}))}::jsonb[], ${column((i) => i.clientId ?? null)}::text[],
          ${column((_, b) => b.withMembers)}::boolean[]
        ) with ordinality as i(id, conversation_id, sender_id, sender_name, type, text, attachments, reply_to, metadata,
          client_id, with_members, ord)
      ), input as (
        -- A clientId already stored, or given twice, is a retry: the first is
        -- kept and the others are answered with it, without failing the batch.
        select * from (
          select g.*, row_number() over (partition by g.sender_id, coalesce(g.client_id, g.id) order by g.ord) as nth
          from given g
          where g.client_id is null
            or not exists (select 1 from messages x where x.sender_id = g.sender_id and x.client_id = g.client_id)
        ) fresh
        where nth = 1
      ), counts as (
        select conversation_id, count(*) as n from input group by conversation_id
      ), bump as (
        update conversations c set last_seq = c.last_seq + counts.n, last_message_at = ${now}::timestamptz, activity_at = ${now}::timestamptz
        from counts
        where c.id = counts.conversation_id
        returning c.id, c.last_seq - counts.n as first_seq
      ), inserted as (
        insert into messages (id, conversation_id, seq, rev_seq, sender_id, sender_name, type, text, attachments,
          reply_to, metadata, client_id, created_at, edited_at, deleted_at, reactions)
        select id, conversation_id, seq, seq, sender_id, sender_name, type, text, attachments, reply_to, metadata, client_id,
          ${now}::timestamptz, null, null, '{}'::jsonb
        from (
          select i.*, b.first_seq + row_number() over (partition by i.conversation_id order by i.ord) as seq
          from input i join bump b on b.id = i.conversation_id
        ) numbered
        returning *
      ), read as (
        update members set last_read_seq = r.seq, last_read_at = ${now}::timestamptz
        from (select conversation_id, sender_id, max(seq) as seq from inserted group by conversation_id, sender_id) r
        where members.conversation_id = r.conversation_id and members.user_id = r.sender_id and members.last_read_seq < r.seq
      )
      select inserted.*,
        case when input.with_members
          then (select coalesce(array_agg(user_id), '{}') from members where members.conversation_id = inserted.conversation_id)
        end as member_ids
      from inserted join input on input.id = inserted.id`.execute(db));
  } catch (err) {
    for (const b of batch) b.reject(err);
    return;
  }
  const byId = new Map(rows.map((row) => [row.id, row]));
  batch.forEach((b, i) => {
    const row = byId.get(ids[i]!);
    if (!row && b.input.clientId != null) return b.resolve(null);
    if (!row) return b.reject(new Error(`no conversation ${b.input.conversationId} to append to`));
    const { member_ids, ...message } = row;
    b.resolve({ message: toMessage(message), memberIds: member_ids });
  });
}

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
 * `rev_seq` order, each with when `viewerId` hid it (if they did): a keyset
 * walk of `(conversation_id, rev_seq)`. Returned unexecuted so its plan can be checked.
 */
export function syncPageQuery(db: Db, conversationId: string, viewerId: string, afterSeq: number, lastSeq: number, limit: number) {
  return db
    .selectFrom("messages as m")
    .leftJoin("hidden_messages as h", (join) => join.onRef("h.message_id", "=", "m.id").on("h.user_id", "=", viewerId))
    .selectAll("m")
    .select("h.hidden_at")
    .where("m.conversation_id", "=", conversationId)
    .where("m.rev_seq", ">", afterSeq)
    .where("m.rev_seq", "<=", lastSeq)
    .orderBy("m.rev_seq", "asc")
    .limit(limit + 1);
}
