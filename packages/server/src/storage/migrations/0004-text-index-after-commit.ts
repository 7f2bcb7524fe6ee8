import { sql, type Kysely } from "kysely";
import type { ColumnTypes } from "./column-types.js";

/**
 * SQLite: a new message's text is indexed for search after its commit, in
 * batches (see `sqlite-text-index.ts`), not by a trigger inside the send. The
 * insert trigger now only notes the message's rowid in
 * `messages_fts_pending`; edits and deletes of a message still waiting there
 * leave the index alone (the batch reads the text as it is then), those of
 * an indexed one update it as before. PostgreSQL's index is unchanged.
 */
export async function up(db: Kysely<unknown>, t: ColumnTypes): Promise<void> {
  if (t.json === "jsonb") return;
  await sql`create table messages_fts_pending (message_rowid integer primary key)`.execute(db);
  await sql`drop trigger messages_fts_insert`.execute(db);
  await sql`create trigger messages_fts_insert after insert on messages begin
    insert into messages_fts_pending (message_rowid) values (new.rowid);
  end`.execute(db);
  await sql`drop trigger messages_fts_delete`.execute(db);
  await sql`create trigger messages_fts_delete after delete on messages begin
    insert into messages_fts (messages_fts, rowid, text)
      select 'delete', old.rowid, old.text
      where not exists (select 1 from messages_fts_pending where message_rowid = old.rowid);
    delete from messages_fts_pending where message_rowid = old.rowid;
  end`.execute(db);
  await sql`drop trigger messages_fts_update`.execute(db);
  await sql`create trigger messages_fts_update after update of text on messages
    when not exists (select 1 from messages_fts_pending where message_rowid = old.rowid)
  begin
    insert into messages_fts (messages_fts, rowid, text) values ('delete', old.rowid, old.text);
    insert into messages_fts (rowid, text) values (new.rowid, new.text);
  end`.execute(db);
}
