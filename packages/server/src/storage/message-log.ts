import { randomUUID } from "node:crypto";
import type { Message, MessageType } from "@parley/protocol";
import { sql, type Kysely, type Selectable, type Transaction } from "kysely";
import type { DialectName } from "./database.js";
import { isoNow, toJson, toMessage } from "./mappers.js";
import type { Database, MessagesTable } from "./schema.js";

type Db = Kysely<Database> | Transaction<Database>;

/** A new message's fields; `seq` and `revSeq` come from the conversation's counter. */
export interface NewMessage {
  /** @default a new UUID */
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

/** Appends a message with the next `seq`; call inside a transaction. */
export async function appendMessage(db: Db, input: NewMessage): Promise<Message> {
  const now = isoNow();
  const seq = await nextSeq(db, input.conversationId, now);
  const row = await db
    .insertInto("messages")
    .values({
      id: input.id ?? randomUUID(),
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
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toMessage(row);
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
 * reads the member ids its event goes to. On PostgreSQL that is one
 * statement and one round trip instead of four, which is most of a send's
 * time inside a grouped commit; on SQLite, in process, the steps run one by
 * one.
 */
export async function appendSentMessage(db: Db, dialect: DialectName, input: NewMessage, withMembers: boolean): Promise<SentMessage> {
  if (dialect === "sqlite") {
    const message = await appendMessage(db, input);
    await db
      .updateTable("members")
      .set({ last_read_seq: message.seq, last_read_at: message.createdAt })
      .where("conversation_id", "=", input.conversationId)
      .where("user_id", "=", input.senderId)
      .where("last_read_seq", "<", message.seq)
      .execute();
    const memberIds = withMembers
      ? (await db.selectFrom("members").select("user_id").where("conversation_id", "=", input.conversationId).execute()).map((r) => r.user_id)
      : null;
    return { message, memberIds };
  }
  const now = isoNow();
  // Statements of one WITH see the tables as they were before it: `members`
  // below still lists everyone (no one joins or leaves in a send), and the
  // read-position update takes its seq from the inserted row.
  const members = withMembers
    ? sql<string[]>`(select coalesce(array_agg(user_id), '{}') from members where conversation_id = ${input.conversationId})`
    : sql<null>`null`;
  const { rows } = await sql<Selectable<MessagesTable> & { member_ids: string[] | null }>`
    with bump as (
      update conversations set last_seq = last_seq + 1, last_message_at = ${now}::timestamptz, activity_at = ${now}::timestamptz
      where id = ${input.conversationId}
      returning last_seq
    ), inserted as (
      insert into messages (id, conversation_id, seq, rev_seq, sender_id, sender_name, type, text, attachments,
        reply_to, metadata, client_id, created_at, edited_at, deleted_at, reactions)
      select ${input.id ?? randomUUID()}, ${input.conversationId}, last_seq, last_seq, ${input.senderId}, ${input.senderName},
        ${input.type}, ${input.text}::text, ${toJson(input.attachments ?? [])}::jsonb, ${input.replyTo ?? null}::text,
        ${toJson(input.metadata ?? {})}::jsonb, ${input.clientId ?? null}::text, ${now}::timestamptz, null, null, '{}'::jsonb
      from bump
      returning *
    ), read as (
      update members set last_read_seq = inserted.seq, last_read_at = inserted.created_at
      from inserted
      where members.conversation_id = ${input.conversationId} and members.user_id = ${input.senderId}
        and members.last_read_seq < inserted.seq
    )
    select inserted.*, ${members} as member_ids from inserted`.execute(db);
  const row = rows[0];
  if (!row) throw new Error(`no conversation ${input.conversationId} to append to`);
  const { member_ids, ...message } = row;
  return { message: toMessage(message), memberIds: member_ids };
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
