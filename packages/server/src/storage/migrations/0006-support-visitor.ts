import { sql, type Kysely } from "kysely";
import type { ColumnTypes } from "./column-types.js";

/**
 * A support conversation's `created_by` is its visitor: operators' unread
 * counts there are the messages of `created_by`. The host's back end (the
 * system principal) may open one on a visitor's behalf; such conversations
 * were stored with the system as their creator, so operators saw none of
 * the visitor's messages as unread. Their creator becomes the member who
 * joined first, the visitor they were opened for.
 */
export async function up(db: Kysely<unknown>, _t: ColumnTypes): Promise<void> {
  await sql`update conversations set created_by = (
      select m.user_id from members m where m.conversation_id = conversations.id order by m.joined_at, m.user_id limit 1)
    where kind = 'support' and created_by = 'parley:system'
      and exists (select 1 from members m where m.conversation_id = conversations.id)`.execute(db);
}
