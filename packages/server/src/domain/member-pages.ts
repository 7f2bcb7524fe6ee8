import { sql, type Kysely, type RawBuilder, type Selectable } from "kysely";
import { BatchLoader } from "../storage/batch-loader.js";
import { ROWS_AS_ARRAYS, type Storage } from "../storage/database.js";
import type { Database, MessagesTable } from "../storage/schema.js";

/** A page's message row; in a sync page, with when the reader hid it (if they did). */
export type PageRow = Selectable<MessagesTable> & { hidden_at: string | null };

/** `history`: newest first, before a seq. `sync`: changed after a seq, oldest change first. */
export type PageKind = "history" | "sync";

export interface MemberPageRequest {
  conversationId: string;
  userId: string;
  /** history: messages before this seq (`undefined`: the newest); sync: messages changed after it. */
  cursor: number | undefined;
  /** Rows to read: the page's limit and one more, which tells whether there are more. */
  rows: number;
}

/** A member's page and the conversation's counter as the same statement read it. */
export interface MemberPage {
  /** The conversation's `last_seq` in this statement's snapshot: every change up to it is in reach. */
  lastSeq: number;
  rows: PageRow[];
}

/**
 * The message columns a page reads, as `p_<column>`: every column but the
 * conversation's id, which the request already holds (a string less to
 * read per row).
 */
const PAGE_COLUMNS = Object.keys({
  id: true,
  seq: true,
  rev_seq: true,
  sender_id: true,
  sender_name: true,
  type: true,
  text: true,
  attachments: true,
  reply_to: true,
  metadata: true,
  client_id: true,
  created_at: true,
  edited_at: true,
  deleted_at: true,
  reactions: true,
  hidden_at: true,
} satisfies Record<Exclude<keyof PageRow, "conversation_id">, true>) as Array<Exclude<keyof PageRow, "conversation_id">>;

/**
 * Where each column is in a row of the batch, which comes as an array (see
 * `ROWS_AS_ARRAYS`): the request's `ord`, the page row's number `p_n`, the
 * conversation's `last_seq` (on a request's first row only), then the page
 * row.
 */
const ORD = 0;
const ROW_NUMBER = 1;
const LAST_SEQ = 2;
const PAGE_AT = 3;
const PAGE_INDEX = Object.fromEntries(PAGE_COLUMNS.map((c, j) => [c, PAGE_AT + j])) as Record<(typeof PAGE_COLUMNS)[number], number>;

/** No seq is this high: a history page "before" it is the newest. */
const NEWEST = Number.MAX_SAFE_INTEGER;

/**
 * The page query for each request `k` of a batch, beside its member row `a`
 * (there is none unless the caller is a member, and then nothing is read).
 * `p_n` numbers the rows in page order.
 */
function pageQuery(kind: PageKind): RawBuilder<unknown> {
  const columns = sql.raw(
    PAGE_COLUMNS.filter((c) => c !== "hidden_at")
      .map((c) => `m.${c} as p_${c}`)
      .join(", "),
  );
  if (kind === "sync") {
    // The same two keyset walks as `syncPageQuery` (untouched messages by
    // seq, up to where a full page of touched ones ends; touched ones by
    // rev_seq), up to the counter this statement read: one snapshot, so
    // every change up to it is there.
    return sql`select ${columns}, h.hidden_at as p_hidden_at, row_number() over (order by m.rev_seq asc) as p_n
      from (
        (select * from messages u
          where u.conversation_id = k.conversation_id and u.seq > k.cursor and u.rev_seq = u.seq
            and u.seq <= (select case when count(*) >= k.n then max(e.rev_seq) else a.last_seq end
              from (select e.rev_seq from messages e
                where e.conversation_id = k.conversation_id and e.rev_seq > k.cursor and e.rev_seq <= a.last_seq and e.rev_seq <> e.seq
                order by e.rev_seq limit k.n) e)
          order by u.seq asc limit k.n)
        union all
        (select * from messages t
          where t.conversation_id = k.conversation_id and t.rev_seq > k.cursor and t.rev_seq <= a.last_seq and t.rev_seq <> t.seq
          order by t.rev_seq asc limit k.n)
      ) m
      left join hidden_messages h on h.message_id = m.id and h.user_id = k.user_id
      order by m.rev_seq asc
      limit k.n`;
  }
  // As `historyPageQuery`: a keyset walk of (conversation_id, seq), newest first.
  return sql`select ${columns}, null::timestamptz as p_hidden_at, row_number() over (order by m.seq desc) as p_n
    from messages m
    where m.conversation_id = k.conversation_id and m.seq < k.cursor
      and not exists (select 1 from hidden_messages h where h.message_id = m.id and h.user_id = k.user_id)
    order by m.seq desc
    limit k.n`;
}

function pageLoader(db: Kysely<Database>, kind: PageKind): BatchLoader<MemberPageRequest, MemberPage | null> {
  const page = pageQuery(kind);
  const pageColumns = sql.raw(PAGE_COLUMNS.map((c) => `p.p_${c}`).join(", "));
  return new BatchLoader(async (keys) => {
    // Only what a member's page needs of the access check goes out: that
    // there is a membership (a request without one has no rows at all) and
    // the counter, on its page's first row (or its only row, when the page
    // is empty). The full access row on every request was 18 columns of the
    // 37; each column costs pg a parser per result and a field per row.
    const { rows } = await sql<unknown[]>`${sql.raw(ROWS_AS_ARRAYS)}
      select k.ord, p.p_n, case when p.p_n is null or p.p_n = 1 then a.last_seq end, ${pageColumns}
      from unnest(
        ${keys.map((k) => k.conversationId)}::text[], ${keys.map((k) => k.userId)}::text[],
        ${keys.map((k) => k.cursor ?? (kind === "sync" ? 0 : NEWEST))}::bigint[], ${keys.map((k) => k.rows)}::int[]
      ) with ordinality as k(conversation_id, user_id, cursor, n, ord)
      cross join lateral (
        select c.last_seq from conversations c
        join members mb on mb.conversation_id = c.id and mb.user_id = k.user_id
        where c.id = k.conversation_id
      ) a
      left join lateral (${page}) p on true
      order by k.ord, p.p_n`.execute(db);
    const pages: Array<MemberPage | null> = keys.map(() => null);
    for (const row of rows) {
      const i = Number(row[ORD]) - 1;
      let found = pages[i];
      if (!found) pages[i] = found = { lastSeq: Number(row[LAST_SEQ]), rows: [] };
      if (row[ROW_NUMBER] !== null) found.rows.push(messagePart(row, keys[i]!.conversationId));
    }
    return pages;
  });
}

/** A page column of a batch row. */
function at<C extends (typeof PAGE_COLUMNS)[number]>(row: readonly unknown[], column: C): PageRow[C] {
  return row[PAGE_INDEX[column]] as PageRow[C];
}

/** Written out: a page has up to a hundred rows, and building these by computed names cost more than reading them. */
function messagePart(row: readonly unknown[], conversationId: string): PageRow {
  return {
    id: at(row, "id"),
    conversation_id: conversationId,
    seq: at(row, "seq"),
    rev_seq: at(row, "rev_seq"),
    sender_id: at(row, "sender_id"),
    sender_name: at(row, "sender_name"),
    type: at(row, "type"),
    text: at(row, "text"),
    attachments: at(row, "attachments"),
    reply_to: at(row, "reply_to"),
    metadata: at(row, "metadata"),
    client_id: at(row, "client_id"),
    created_at: at(row, "created_at"),
    edited_at: at(row, "edited_at"),
    deleted_at: at(row, "deleted_at"),
    reactions: at(row, "reactions"),
    hidden_at: at(row, "hidden_at"),
  };
}

const loaders = new WeakMap<Storage, Record<PageKind, BatchLoader<MemberPageRequest, MemberPage | null>>>();

/**
 * On PostgreSQL, a member's history or sync page: the access check and the
 * page in one statement, and the pages asked for in the same turn of the
 * event loop (a reconnect storm's syncs) in that same statement (see
 * {@link BatchLoader}), on `Storage.batchDb`. Each round trip costs the
 * server system calls and wakes a backend; this one replaces two per page.
 *
 * Resolves to `null`, having read no message, when there is no such
 * conversation or the caller is not a member: the caller then takes the
 * path that checks every other kind of access (channel readers, operators,
 * admins) and answers strangers. On SQLite it is always `null`.
 */
export async function loadMemberPage(storage: Storage, kind: PageKind, request: MemberPageRequest): Promise<MemberPage | null> {
  if (storage.sqlite) return null;
  let found = loaders.get(storage);
  if (!found) loaders.set(storage, (found = { history: pageLoader(storage.batchDb, "history"), sync: pageLoader(storage.batchDb, "sync") }));
  return found[kind].load(request);
}
