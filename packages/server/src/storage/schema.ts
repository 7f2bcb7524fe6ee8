import type { ColumnType, Generated } from "kysely";

/**
 * Tables as Kysely sees them. Timestamps are written as ISO-8601 strings and
 * read back as ISO-8601 strings on both databases (PostgreSQL's timestamptz
 * parser is set in `database.ts`); JSON columns are `text` on SQLite and
 * `jsonb` on PostgreSQL and are parsed by `mappers.ts`.
 */
export interface Database {
  users: UsersTable;
  conversations: ConversationsTable;
  members: MembersTable;
  messages: MessagesTable;
  hidden_messages: HiddenMessagesTable;
  support_reads: SupportReadsTable;
  uploads: UploadsTable;
  message_attachments: MessageAttachmentsTable;
  webhook_outbox: WebhookOutboxTable;
}

type Json = ColumnType<unknown, string, string>;

export interface UsersTable {
  id: string;
  name: string;
  avatar: string | null;
  roles: Json;
  created_at: string;
  last_seen_at: string | null;
}

export interface ConversationsTable {
  id: string;
  kind: string;
  ref: string | null;
  /** `"<userA>\n<userB>"` (sorted) for direct conversations: one per pair. */
  direct_key: string | null;
  title: string | null;
  metadata: Json;
  status: string;
  created_by: string | null;
  created_at: string;
  last_message_at: string | null;
  /** `last_message_at` or else `created_at`: the inbox's sort key. */
  activity_at: string;
  /**
   * `activity_at` of a support or channel conversation, the sort key of the
   * lists everyone shares (the support queue, the channel directory); null
   * for the rest, which no index then follows (see migration 0008).
   */
  listed_at: string | null;
  last_seq: Generated<number>;
}

export interface MembersTable {
  conversation_id: string;
  user_id: string;
  role: string;
  joined_at: string;
  last_read_seq: Generated<number>;
  last_read_at: string | null;
  last_delivered_seq: Generated<number>;
}

export interface MessagesTable {
  id: string;
  conversation_id: string;
  seq: number;
  rev_seq: number;
  sender_id: string;
  sender_name: string;
  type: string;
  text: string | null;
  attachments: Json;
  reply_to: string | null;
  metadata: Json;
  client_id: string | null;
  created_at: string;
  edited_at: string | null;
  deleted_at: string | null;
  reactions: Json;
}

/** Messages a user deleted "for me". */
export interface HiddenMessagesTable {
  user_id: string;
  message_id: string;
  conversation_id: string;
  hidden_at: string;
}

/** An operator's read position in a support conversation they may not be a member of. */
export interface SupportReadsTable {
  conversation_id: string;
  user_id: string;
  last_read_seq: Generated<number>;
  last_read_at: string | null;
}

/** A stored file; its bytes live in the uploads directory under its id. */
export interface UploadsTable {
  id: string;
  owner_id: string;
  name: string;
  mime_type: string;
  size: number;
  width: number | null;
  height: number | null;
  created_at: string;
}

/** Which messages reference which uploads (who may fetch a file). */
export interface MessageAttachmentsTable {
  message_id: string;
  upload_id: string;
  conversation_id: string;
}

/** Webhooks to send, written in the same transaction as the change they report. */
export interface WebhookOutboxTable {
  id: string;
  type: string;
  /** The exact JSON body that is signed and sent. */
  body: string;
  created_at: string;
  attempts: Generated<number>;
  next_attempt_at: string;
  delivered_at: string | null;
  failed_at: string | null;
  last_error: string | null;
}
