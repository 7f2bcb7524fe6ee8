import type { Conversation, ConversationKind, Member, MemberRole, Message, MessageType, User } from "@parley/protocol";
import type { Selectable } from "kysely";
import type { ConversationsTable, MembersTable, MessagesTable, UsersTable } from "./schema.js";

/** Parses a JSON column: SQLite gives text, PostgreSQL gives the value. */
export function fromJson<T>(value: unknown, fallback: T): T {
  if (value === null || value === undefined) return fallback;
  if (typeof value === "string") return JSON.parse(value) as T;
  return value as T;
}

/** Serializes a value for a JSON column on either database. */
export function toJson(value: unknown): string {
  return JSON.stringify(value);
}

/** An ISO-8601 UTC timestamp with milliseconds, for now or for `date`. */
export function isoNow(date: Date = new Date()): string {
  return date.toISOString();
}

export function toUser(row: Selectable<UsersTable>): User {
  return {
    id: row.id,
    name: row.name,
    avatar: row.avatar,
    roles: fromJson<string[]>(row.roles, []),
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
  };
}

export function toConversation(row: Selectable<ConversationsTable>): Conversation {
  return {
    id: row.id,
    kind: row.kind as ConversationKind,
    ref: row.ref,
    title: row.title,
    metadata: fromJson<Record<string, unknown>>(row.metadata, {}),
    status: row.status === "closed" ? "closed" : "open",
    createdAt: row.created_at,
    lastMessageAt: row.last_message_at,
    lastSeq: Number(row.last_seq),
  };
}

export function toMember(row: Selectable<MembersTable> & { name: string | null }): Member {
  return {
    userId: row.user_id,
    role: row.role as MemberRole,
    name: row.name ?? row.user_id,
    joinedAt: row.joined_at,
    lastReadSeq: Number(row.last_read_seq),
    lastReadAt: row.last_read_at,
    lastDeliveredSeq: Number(row.last_delivered_seq),
  };
}

export function toMessage(row: Selectable<MessagesTable>): Message {
  return {
    id: row.id,
    conversationId: row.conversation_id,
    seq: Number(row.seq),
    revSeq: Number(row.rev_seq),
    senderId: row.sender_id,
    senderName: row.sender_name,
    type: row.type as MessageType,
    text: row.text,
    attachments: fromJson(row.attachments, []),
    replyTo: row.reply_to,
    metadata: fromJson<Record<string, unknown>>(row.metadata, {}),
    clientId: row.client_id,
    createdAt: row.created_at,
    editedAt: row.edited_at,
    deletedAt: row.deleted_at,
    reactions: fromJson<Record<string, string[]>>(row.reactions, {}),
  };
}
