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
