import { sql, type Kysely } from "kysely";
import type { ColumnTypes } from "./column-types.js";

/**
 * Operators' read positions in support conversations, uploads and the
 * messages that reference them, the webhook outbox, and full-text search.
 */
export async function up(db: Kysely<unknown>, t: ColumnTypes): Promise<void> {
  await db.schema
    .createTable("support_reads")
    .addColumn("conversation_id", "text", (c) => c.notNull().references("conversations.id").onDelete("cascade"))
    .addColumn("user_id", "text", (c) => c.notNull())
    .addColumn("last_read_seq", t.bigint, (c) => c.notNull().defaultTo(0))
    .addColumn("last_read_at", t.timestamp)
    .addPrimaryKeyConstraint("support_reads_pk", ["conversation_id", "user_id"])
    .execute();

  await db.schema
    .createTable("uploads")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("owner_id", "text", (c) => c.notNull())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("mime_type", "text", (c) => c.notNull())
    .addColumn("size", t.bigint, (c) => c.notNull())
    .addColumn("width", "integer")
    .addColumn("height", "integer")
    .addColumn("created_at", t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex("uploads_owner").on("uploads").column("owner_id").execute();

  await db.schema
    .createTable("message_attachments")
    .addColumn("message_id", "text", (c) => c.notNull().references("messages.id").onDelete("cascade"))
    .addColumn("upload_id", "text", (c) => c.notNull())
    .addColumn("conversation_id", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("message_attachments_pk", ["message_id", "upload_id"])
    .execute();
  await db.schema.createIndex("message_attachments_upload").on("message_attachments").column("upload_id").execute();

  await db.schema
    .createTable("webhook_outbox")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("type", "text", (c) => c.notNull())
    .addColumn("body", "text", (c) => c.notNull())
    .addColumn("created_at", t.timestamp, (c) => c.notNull())
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("next_attempt_at", t.timestamp, (c) => c.notNull())
    .addColumn("delivered_at", t.timestamp)
    .addColumn("failed_at", t.timestamp)
    .addColumn("last_error", "text")
    .execute();
  await db.schema
    .createIndex("webhook_outbox_pending")
    .on("webhook_outbox")
    .column("next_attempt_at")
    .where(sql.ref("delivered_at"), "is", null)
    .where(sql.ref("failed_at"), "is", null)
    .execute();

  if (t.json === "jsonb") {
    await sql`create index messages_text_search on messages using gin (to_tsvector('simple', coalesce(text, '')))`.execute(db);
  } else {
    // External-content FTS5 index over messages.text, kept in step by triggers.
    await sql`create virtual table messages_fts using fts5(text, content='messages', content_rowid='rowid', tokenize='unicode61 remove_diacritics 2')`.execute(db);
    await sql`create trigger messages_fts_insert after insert on messages begin
      insert into messages_fts(rowid, text) values (new.rowid, new.text);
    end`.execute(db);
    await sql`create trigger messages_fts_delete after delete on messages begin
      insert into messages_fts(messages_fts, rowid, text) values ('delete', old.rowid, old.text);
    end`.execute(db);
    await sql`create trigger messages_fts_update after update of text on messages begin
      insert into messages_fts(messages_fts, rowid, text) values ('delete', old.rowid, old.text);
      insert into messages_fts(rowid, text) values (new.rowid, new.text);
    end`.execute(db);
  }
}
