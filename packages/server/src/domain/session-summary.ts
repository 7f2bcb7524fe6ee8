import { sql, type Expression, type InferResult, type Kysely, type RawBuilder } from "kysely";
import { BatchLoader } from "../storage/batch-loader.js";
import type { Storage } from "../storage/database.js";
import type { Database } from "../storage/schema.js";

/** A user id as a value, or (batched) as a reference to the column of each input row. */
type Id = string | Expression<string>;

/** A user's conversations with their counters, read positions and unread counts. */
function summaryQuery(db: Kysely<Database>, userId: Id) {
  return db
    .selectFrom("members as m")
    .innerJoin("conversations as c", "c.id", "m.conversation_id")
    .select([
      "c.id",
      "c.kind",
      "c.direct_key",
      "c.last_seq",
      "c.activity_at",
      "m.last_read_seq",
      // `x.seq <= c.last_seq` holds for every message (the counter is
      // taken in the same transaction as the insert). Written out, it gives
      // PostgreSQL's generic plan (the batch pool's) a closed range to
      // estimate, so it walks the index rather than the whole table when
      // one conversation holds most messages.
      sql<number>`(select count(*) from messages x
        where x.conversation_id = c.id and x.seq > m.last_read_seq and x.seq <= c.last_seq
          and x.sender_id <> ${userId} and x.deleted_at is null
          and not exists (select 1 from hidden_messages h where h.message_id = x.id and h.user_id = ${userId}))`.as("unread"),
    ])
    .where("m.user_id", "=", userId);
}

/** The ids of a user's non-channel conversations (where their presence is shown). */
function presenceQuery(db: Kysely<Database>, userId: Id) {
  return db
    .selectFrom("members as m")
    .innerJoin("conversations as c", "c.id", "m.conversation_id")
    .select(["c.id", "c.direct_key"])
    .where("m.user_id", "=", userId)
    .where("c.kind", "<>", "channel");
}

/** The channels a user is a member of, with their counters. */
function channelsQuery(db: Kysely<Database>, userId: Id) {
  return db
    .selectFrom("members as m")
    .innerJoin("conversations as c", "c.id", "m.conversation_id")
    .select(["c.id", "c.last_seq"])
    .where("m.user_id", "=", userId)
    .where("c.kind", "=", "channel");
}

export type SummaryRow = InferResult<ReturnType<typeof summaryQuery>>[number];

/**
 * Runs `each` (a query about the user in column `k.user_id`) for every user
 * of a batch in one statement, rows ordered by `order` within each user.
 */
function perUserLoader<Row>(db: Kysely<Database>, each: Expression<unknown>, order: RawBuilder<unknown>): BatchLoader<string, Row[]> {
  return new BatchLoader(async (userIds) => {
    const { rows } = await sql<Row & { ord: number }>`
      select k.ord, s.*
      from unnest(${userIds}::text[]) with ordinality as k(user_id, ord)
      cross join lateral (${each}) s
      order by k.ord, ${order}`.execute(db);
    const byUser: Row[][] = userIds.map(() => []);
    for (const { ord, ...row } of rows) byUser[Number(ord) - 1]!.push(row as Row);
    return byUser;
  });
}

/**
 * On PostgreSQL the lookups of users connecting or leaving at the same time
 * (a reconnect storm after a deploy or a network blip) are read by one
 * statement each (see {@link BatchLoader}), on `Storage.batchDb`.
 */
interface Loaders {
  summary: BatchLoader<string, SummaryRow[]>;
  presence: BatchLoader<string, Array<{ id: string; direct_key: string | null }>>;
  channels: BatchLoader<string, Array<{ id: string; last_seq: number | string }>>;
}

const loaders = new WeakMap<Storage, Loaders>();

function loadersFor(storage: Storage): Loaders {
  let found = loaders.get(storage);
  if (!found) {
    const user = sql.ref<string>("k.user_id");
    found = {
      summary: perUserLoader(storage.batchDb, summaryQuery(storage.batchDb, user), sql`s.activity_at desc`),
      presence: perUserLoader(storage.batchDb, presenceQuery(storage.batchDb, user), sql`s.id`),
      channels: perUserLoader(storage.batchDb, channelsQuery(storage.batchDb, user), sql`s.id`),
    };
    loaders.set(storage, found);
  }
  return found;
}

/** The user's conversations, most recent activity first. */
export async function loadSummaryRows(storage: Storage, userId: string): Promise<SummaryRow[]> {
  if (storage.dialect === "sqlite") return summaryQuery(storage.db, userId).orderBy("c.activity_at", "desc").execute();
  return loadersFor(storage).summary.load(userId);
}

/** The channels `userId` is a member of, with their counters (`lastSeq`). */
export async function loadChannelCounters(storage: Storage, userId: string): Promise<Array<{ id: string; lastSeq: number }>> {
  const rows = storage.dialect === "sqlite" ? await channelsQuery(storage.db, userId).execute() : await loadersFor(storage).channels.load(userId);
  return rows.map((r) => ({ id: r.id, lastSeq: Number(r.last_seq) }));
}

/**
 * Who hears of a user's presence: sockets watching a non-channel
 * conversation of theirs, and every socket of the other person in each of
 * their direct conversations (an inbox shows that person's dot, whether or
 * not the conversation is open).
 */
export interface PresenceAudience {
  conversationIds: string[];
  directPartners: string[];
}

/** The {@link PresenceAudience} of `userId`, from rows of their non-channel conversations. */
export function presenceAudienceOf(rows: ReadonlyArray<{ id: string; direct_key: string | null }>, userId: string): PresenceAudience {
  const directPartners: string[] = [];
  for (const r of rows) {
    // A direct conversation's key is its two user ids, sorted, one per line.
    const other = r.direct_key?.split("\n").find((id) => id !== userId);
    if (other !== undefined) directPartners.push(other);
  }
  return { conversationIds: rows.map((r) => r.id), directPartners };
}

/** The {@link PresenceAudience} of a user. */
export async function loadPresenceAudience(storage: Storage, userId: string): Promise<PresenceAudience> {
  const rows = storage.dialect === "sqlite" ? await presenceQuery(storage.db, userId).execute() : await loadersFor(storage).presence.load(userId);
  return presenceAudienceOf(rows, userId);
}
