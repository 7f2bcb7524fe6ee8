import type { Kysely } from "kysely";
import type { ColumnTypes } from "./column-types.js";

/** Users, conversations, members, messages and per-user hidden messages. */
export async function up(db: Kysely<unknown>, t: ColumnTypes): Promise<void> {
  await db.schema
    .createTable("users")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("avatar", "text")
    .addColumn("roles", t.json, (c) => c.notNull())
    .addColumn("created_at", t.timestamp, (c) => c.notNull())
    .addColumn("last_seen_at", t.timestamp)
    .execute();

  await db.schema
    .createTable("conversations")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("ref", "text", (c) => c.unique())
    .addColumn("direct_key", "text", (c) => c.unique())
    .addColumn("title", "text")
    .addColumn("metadata", t.json, (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("created_by", "text")
    .addColumn("created_at", t.timestamp, (c) => c.notNull())
    .addColumn("last_message_at", t.timestamp)
    .addColumn("activity_at", t.timestamp, (c) => c.notNull())
    .addColumn("last_seq", t.bigint, (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .createIndex("conversations_kind_activity")
    .on("conversations")
    .columns(["kind", "activity_at", "id"])
    .execute();

  await db.schema
    .createTable("members")
    .addColumn("conversation_id", "text", (c) => c.notNull().references("conversations.id").onDelete("cascade"))
    .addColumn("user_id", "text", (c) => c.notNull())
    .addColumn("role", "text", (c) => c.notNull())
    .addColumn("joined_at", t.timestamp, (c) => c.notNull())
    .addColumn("last_read_seq", t.bigint, (c) => c.notNull().defaultTo(0))
    .addColumn("last_read_at", t.timestamp)
    .addColumn("last_delivered_seq", t.bigint, (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint("members_pk", ["conversation_id", "user_id"])
    .execute();
  await db.schema.createIndex("members_user").on("members").columns(["user_id", "conversation_id"]).execute();

  await db.schema
    .createTable("messages")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("conversation_id", "text", (c) => c.notNull().references("conversations.id").onDelete("cascade"))
    .addColumn("seq", t.bigint, (c) => c.notNull())
    .addColumn("rev_seq", t.bigint, (c) => c.notNull())
    .addColumn("sender_id", "text", (c) => c.notNull())
    .addColumn("sender_name", "text", (c) => c.notNull())
    .addColumn("type", "text", (c) => c.notNull())
    .addColumn("text", "text")
    .addColumn("attachments", t.json, (c) => c.notNull())
    .addColumn("reply_to", "text")
    .addColumn("metadata", t.json, (c) => c.notNull())
    .addColumn("client_id", "text")
    .addColumn("created_at", t.timestamp, (c) => c.notNull())
    .addColumn("edited_at", t.timestamp)
    .addColumn("deleted_at", t.timestamp)
    .addColumn("reactions", t.json, (c) => c.notNull())
    .execute();
  // History pages walk (conversation_id, seq); sync walks (conversation_id, rev_seq).
  await db.schema.createIndex("messages_conversation_seq").unique().on("messages").columns(["conversation_id", "seq"]).execute();
  await db.schema.createIndex("messages_conversation_rev_seq").on("messages").columns(["conversation_id", "rev_seq"]).execute();
  await db.schema.createIndex("messages_sender_client").unique().on("messages").columns(["sender_id", "client_id"]).execute();
  await db.schema.createIndex("messages_sender").on("messages").columns(["sender_id"]).execute();

  await db.schema
    .createTable("hidden_messages")
    .addColumn("user_id", "text", (c) => c.notNull())
    .addColumn("message_id", "text", (c) => c.notNull().references("messages.id").onDelete("cascade"))
    .addColumn("conversation_id", "text", (c) => c.notNull())
    .addColumn("hidden_at", t.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint("hidden_messages_pk", ["user_id", "message_id"])
    .execute();
  await db.schema
    .createIndex("hidden_messages_user_conversation")
    .on("hidden_messages")
    .columns(["user_id", "conversation_id"])
    .execute();
}
