import { sql, type Kysely } from "kysely";
import type { ColumnTypes } from "./column-types.js";

/**
 * Fewer and steadier index writes per message.
 *
 * - `messages_sender` duplicated the leading column of the unique
 *   `messages_sender_client (sender_id, client_id)`, which serves every
 *   lookup by sender as well; one index fewer to write per message.
 * - PostgreSQL's GIN index over message text buffered new entries in a
 *   pending list by default (`fastupdate`) and merged the whole list into the
 *   index inside whichever insert found it full: a stall of hundreds of
 *   milliseconds for one unlucky send every few thousand messages, unless
 *   autovacuum happened to merge it first. With `fastupdate = off` every
 *   insert pays its own small share instead; what is pending is merged now.
 */
export async function up(db: Kysely<unknown>, t: ColumnTypes): Promise<void> {
  await db.schema.dropIndex("messages_sender").execute();
  if (t.json === "jsonb") {
    await sql`alter index messages_text_search set (fastupdate = off)`.execute(db);
    await sql`select gin_clean_pending_list('messages_text_search'::regclass)`.execute(db);
  }
}
