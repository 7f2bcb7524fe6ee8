import { sql, type Kysely } from "kysely";
import type { ColumnTypes } from "./column-types.js";

/**
 * A send no longer moves its conversation in an index, unless the
 * conversation is in a list everyone shares (the support queue, the channel
 * directory).
 *
 * Every send sets its conversation's `activity_at`, and
 * `conversations_kind_activity (kind, activity_at, id)` held every
 * conversation, so each send moved an index entry: on SQLite one more page
 * for the commit to write; on PostgreSQL a changed indexed column rules out
 * a heap-only update, so the new row version also went into each of the
 * table's four indexes (an update took about a quarter longer, measured
 * with `pgbench`).
 *
 * `listed_at` is `activity_at` for support and channel conversations and
 * null for the rest, and only those rows are indexed. Inboxes go through
 * the caller's memberships and sort `activity_at` as before.
 */
export async function up(db: Kysely<unknown>, t: ColumnTypes): Promise<void> {
  await db.schema.alterTable("conversations").addColumn("listed_at", t.timestamp).execute();
  await sql`update conversations set listed_at = activity_at where kind in ('support', 'channel')`.execute(db);
  await db.schema.dropIndex("conversations_kind_activity").execute();
  await sql`create index conversations_listed on conversations (kind, listed_at, id) where listed_at is not null`.execute(db);
}
