import { sql, type Kysely, type RawBuilder, type Selectable } from "kysely";
import { BatchLoader } from "../storage/batch-loader.js";
import type { Storage } from "../storage/database.js";
import type { Database, MessagesTable } from "../storage/schema.js";
import { accessQuery, toAccessView, type AccessRow, type AccessView } from "./access.js";

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

/** A member's page and the conversation as the same statement saw it. */
export interface MemberPage {
  view: AccessView;
  rows: PageRow[];
}

/** Every column of a message, read in the page as `p_<column>`. */
const MESSAGE_COLUMNS = Object.keys({
  id: true,
  conversation_id: true,
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
} satisfies Record<keyof MessagesTable, true>) as Array<keyof MessagesTable>;

const PAGE_COLUMNS = [...MESSAGE_COLUMNS, "hidden_at"] as const;

/** No seq is this high: a history page "before" it is the newest. */
const NEWEST = Number.MAX_SAFE_INTEGER;

/** A row of a batch: the request's `ord`, its page row (as `p_<column>`) and, on its first row only, its access row. */
type BatchRow = AccessRow & { ord: number; p_n: number | null } & { [C in keyof PageRow as `p_${C}`]: PageRow[C] };

/**
 * The page query for each request `k` of a batch, beside its access row `a`.
 * It reads nothing unless the caller is a member (`a.m_user_id`); PostgreSQL
 * checks that once per request, before the scan. `p_n` numbers the rows in
 * page order.
 */
function pageQuery(kind: PageKind): RawBuilder<unknown> {
  const columns = sql.raw(MESSAGE_COLUMNS.map((c) => `m.${c} as p_${c}`).join(", "));
  if (kind === "sync") {
    // The same keyset walk of (conversation_id, rev_seq) as `syncPageQuery`,
    // up to the counter this statement read: one snapshot, so every change
    // up to it is there.
    return sql`select ${columns}, h.hidden_at as p_hidden_at, row_number() over (order by m.rev_seq asc) as p_n
      from messages m
      left join hidden_messages h on h.message_id = m.id and h.user_id = k.user_id
      where a.m_user_id is not null and m.conversation_id = k.conversation_id
        and m.rev_seq > k.cursor and m.rev_seq <= a.last_seq
      order by m.rev_seq asc
      limit k.n`;
  }
  // As `historyPageQuery`: a keyset walk of (conversation_id, seq), newest first.
  return sql`select ${columns}, null::timestamptz as p_hidden_at, row_number() over (order by m.seq desc) as p_n
    from messages m
    where a.m_user_id is not null and m.conversation_id = k.conversation_id and m.seq < k.cursor
      and not exists (select 1 from hidden_messages h where h.message_id = m.id and h.user_id = k.user_id)
    order by m.seq desc
    limit k.n`;
}

function pageLoader(db: Kysely<Database>, kind: PageKind): BatchLoader<MemberPageRequest, MemberPage | null> {
  const access = accessQuery(db, sql.ref<string>("k.conversation_id"), sql.ref<string>("k.user_id"));
  const page = pageQuery(kind);
  return new BatchLoader(async (keys) => {
    // The access row goes out once per request, on its page's first row (or
    // its only row, when the page is empty): repeated on every row, it was
    // more of the result than the messages, and reading it cost the server
    // more than the round trip it saves.
    const { rows } = await sql<BatchRow>`
      select k.ord, head.*, p.*
      from unnest(
        ${keys.map((k) => k.conversationId)}::text[], ${keys.map((k) => k.userId)}::text[],
        ${keys.map((k) => k.cursor ?? (kind === "sync" ? 0 : NEWEST))}::bigint[], ${keys.map((k) => k.rows)}::int[]
      ) with ordinality as k(conversation_id, user_id, cursor, n, ord)
      cross join lateral (${access}) a
      left join lateral (${page}) p on true
      left join lateral (select a.*) head on p.p_n is null or p.p_n = 1
      order by k.ord, p.p_n`.execute(db);
    const pages: Array<MemberPage | null> = keys.map(() => null);
    const strangers = new Set<number>();
    for (const row of rows) {
      const i = Number(row.ord) - 1;
      if (strangers.has(i)) continue;
      let found = pages[i];
      if (!found) {
        const view = toAccessView(accessPart(row));
        if (!view.member) {
          strangers.add(i);
          continue;
        }
        pages[i] = found = { view, rows: [] };
      }
      if (row.p_id !== null) found.rows.push(messagePart(row));
    }
    return pages;
  });
}

function accessPart(row: BatchRow): AccessRow {
  const access: Record<string, unknown> = { ...row };
  delete access.ord;
  delete access.p_n;
  for (const c of PAGE_COLUMNS) delete access[`p_${c}`];
  return access as AccessRow;
}

/** Written out: a page has up to a hundred rows, and building these by computed names cost more than reading them. */
function messagePart(row: BatchRow): PageRow {
  return {
    id: row.p_id,
    conversation_id: row.p_conversation_id,
    seq: row.p_seq,
    rev_seq: row.p_rev_seq,
    sender_id: row.p_sender_id,
    sender_name: row.p_sender_name,
    type: row.p_type,
    text: row.p_text,
    attachments: row.p_attachments,
    reply_to: row.p_reply_to,
    metadata: row.p_metadata,
    client_id: row.p_client_id,
    created_at: row.p_created_at,
    edited_at: row.p_edited_at,
    deleted_at: row.p_deleted_at,
    reactions: row.p_reactions,
    hidden_at: row.p_hidden_at,
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
