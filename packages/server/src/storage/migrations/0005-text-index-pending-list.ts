import { sql, type Kysely } from "kysely";
import type { ColumnTypes } from "./column-types.js";

/**
 * PostgreSQL: new messages' words go to the GIN index's pending list again
 * (`fastupdate`, PostgreSQL's default, which 0003 turned off). Written by
 * each insert, the ten or so words of an everyday message made the send's
 * statement about a fifth longer, and sends queued behind it under load;
 * appended to the list they cost little.
 * What 0003 avoided, an insert finding the list full and merging all of it,
 * is now kept away by the upkeep, which merges the list every second
 * (`postgres-upkeep.ts`).
 */
export async function up(db: Kysely<unknown>, t: ColumnTypes): Promise<void> {
  if (t.json !== "jsonb") return;
  await sql`alter index messages_text_search set (fastupdate = on)`.execute(db);
}
