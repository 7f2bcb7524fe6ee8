import { sql, type Kysely, type RawBuilder, type Selectable } from "kysely";
import { BatchLoader } from "../storage/batch-loader.js";
import { ROWS_AS_ARRAYS, type Storage } from "../storage/database.js";
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

/** Every column of an access row (the conversation, and the caller's membership as `m_<column>`). */
const ACCESS_COLUMNS = Object.keys({
  id: true,
  kind: true,
  ref: true,
  direct_key: true,
  title: true,
  metadata: true,
  status: true,
  created_by: true,
  created_at: true,
  last_message_at: true,
  activity_at: true,
  last_seq: true,
  m_user_id: true,
  m_role: true,
  m_joined_at: true,
  m_last_read_seq: true,
  m_last_read_at: true,
  m_last_delivered_seq: true,
} satisfies Record<keyof AccessRow, true>) as Array<keyof AccessRow>;

/**
 * Where each column is in a row of the batch, which comes as an array (see
 * `ROWS_AS_ARRAYS`): the request's `ord`, the page row's number `p_n`, the
 * access row (on a request's first row only), then the page row.
 */
const ORD = 0;
const ROW_NUMBER = 1;
const ACCESS_AT = 2;
const PAGE_AT = ACCESS_AT + ACCESS_COLUMNS.length;
const PAGE_INDEX = Object.fromEntries(PAGE_COLUMNS.map((c, j) => [c, PAGE_AT + j])) as Record<(typeof PAGE_COLUMNS)[number], number>;

/** No seq is this high: a history page "before" it is the newest. */
const NEWEST = Number.MAX_SAFE_INTEGER;

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
  const headColumns = sql.raw(ACCESS_COLUMNS.map((c) => `head.${c}`).join(", "));
  const pageColumns = sql.raw(PAGE_COLUMNS.map((c) => `p.p_${c}`).join(", "));
  return new BatchLoader(async (keys) => {
    // The access row goes out once per request, on its page's first row (or
    // its only row, when the page is empty): repeated on every row, it was
    // more of the result than the messages, and reading it cost the server
    // more than the round trip it saves.
    const { rows } = await sql<unknown[]>`${sql.raw(ROWS_AS_ARRAYS)}
      select k.ord, p.p_n, ${headColumns}, ${pageColumns}
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
      const i = Number(row[ORD]) - 1;
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
      if (row[ROW_NUMBER] !== null) found.rows.push(messagePart(row));
    }
    return pages;
  });
}

function accessPart(row: readonly unknown[]): AccessRow {
  const access: Record<string, unknown> = {};
  for (let j = 0; j < ACCESS_COLUMNS.length; j++) access[ACCESS_COLUMNS[j]!] = row[ACCESS_AT + j];
  return access as AccessRow;
}

/** A page column of a batch row. */
function at<C extends keyof PageRow>(row: readonly unknown[], column: C): PageRow[C] {
  return row[PAGE_INDEX[column]] as PageRow[C];
}

/** Written out: a page has up to a hundred rows, and building these by computed names cost more than reading them. */
function messagePart(row: readonly unknown[]): PageRow {
  return {
    id: at(row, "id"),
    conversation_id: at(row, "conversation_id"),
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
