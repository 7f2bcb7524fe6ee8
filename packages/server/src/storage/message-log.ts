import { randomUUID } from "node:crypto";
import type { Message, MessageType } from "@parley/protocol";
import type { Kysely, Transaction } from "kysely";
import { isoNow, toJson, toMessage } from "./mappers.js";
import type { Database } from "./schema.js";

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
