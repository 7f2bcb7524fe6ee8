import { sql, type Kysely } from "kysely";
import type { ColumnTypes } from "./column-types.js";

/**
 * `sync` finds what changed after a seq through two indexes instead of one
 * that every message was written into.
 *
 * A message's `rev_seq` is its `seq` until it is first edited, deleted or
 * reacted to, and from then on a later value of the conversation's counter
 * (always above its `seq`). So the messages changed after `n` are the
 * untouched ones with `seq > n`, in `(conversation_id, seq)`, and the
 * touched ones with `rev_seq > n`. Only the touched ones, a few in a
 * conversation, are kept in `messages_conversation_changed`; a new message
 * is not written into it at all. The index over every message's `rev_seq`
 * it replaces cost each send one more index page to write (on SQLite about
 * a fifth of the pages a send's commit writes).
 */
export async function up(db: Kysely<unknown>, _types: ColumnTypes): Promise<void> {
  await sql`create index messages_conversation_changed on messages (conversation_id, rev_seq) where rev_seq <> seq`.execute(db);
  await db.schema.dropIndex("messages_conversation_rev_seq").execute();
}
