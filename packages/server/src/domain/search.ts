import { DEFAULT_PAGE_LIMIT, type Message } from "@parley/protocol";
import { sql, type RawBuilder } from "kysely";
import type { Storage } from "../storage/database.js";
import { indexPendingText } from "../storage/sqlite-text-index.js";
import { toMessage } from "../storage/mappers.js";
import type { MessagesTable } from "../storage/schema.js";
import { assertRead, loadAccess } from "./access.js";
import { invalid } from "./parley-error.js";
import { isOperator, type Principal } from "./principal.js";
import type { UploadService } from "./uploads.js";

export interface SearchInput {
  q: string;
  conversationId?: string | undefined;
  cursor?: string | undefined;
  limit?: number | undefined;
}

/** One hit: the message and a short excerpt with the matches between `**`. */
export interface SearchResult {
  message: Message;
  snippet: string;
}

/**
 * Words of a query, each quoted for FTS5 so no input is read as query syntax
 * (quotes and NUL, which would end the quoted word, left out); `null` when
 * nothing else was typed (FTS5 refuses an empty query).
 */
function ftsQuery(q: string): string | null {
  const words = q
    .split(/\s+/)
    .map((w) => w.replaceAll('"', "").replaceAll("\u0000", ""))
    .filter(Boolean);
  return words.length > 0 ? words.map((w) => `"${w}"`).join(" ") : null;
}

/**
 * Full-text search over the messages the caller may read, newest first:
 * SQLite FTS5 or PostgreSQL `tsvector`, behind one interface.
 */
export class SearchService {
  readonly #storage: Storage;
  readonly #uploads: UploadService;

  constructor(storage: Storage, uploads: UploadService) {
    this.#storage = storage;
    this.#uploads = uploads;
  }

  async search(p: Principal, input: SearchInput): Promise<{ results: SearchResult[]; nextCursor: string | null }> {
    const limit = input.limit ?? DEFAULT_PAGE_LIMIT;
    const words = input.q.trim();
    if (!words) throw invalid("q is empty");

    const match = this.#storage.dialect === "sqlite" ? ftsQuery(words) : words;
    let scope: RawBuilder<unknown>;
    if (input.conversationId !== undefined) {
      assertRead(p, await loadAccess(this.#storage, p, input.conversationId));
      scope = sql`m.conversation_id = ${input.conversationId}`;
    } else {
      // Support conversations along `conversations_listed`, where each has its `listed_at`.
      const support = isOperator(p)
        ? sql` or m.conversation_id in (select id from conversations where kind = 'support' and listed_at is not null)`
        : sql``;
      scope = sql`(m.conversation_id in (select conversation_id from members where user_id = ${p.id})${support})`;
    }
    let after = sql``;
    if (input.cursor) {
      const [at, id] = decode(input.cursor);
      after = sql` and (m.created_at < ${at} or (m.created_at = ${at} and m.id < ${id}))`;
    }
    // A query of only quotes has no word to look for: no hits, as on PostgreSQL.
    if (match === null) return { results: [], nextCursor: null };
    const common = sql`m.deleted_at is null and m.type <> 'system'
      and ${scope}${after}
      and not exists (select 1 from hidden_messages h where h.message_id = m.id and h.user_id = ${p.id})`;

    const query =
      this.#storage.dialect === "sqlite"
        ? sql<MessagesTable & { snippet: string }>`select m.*, snippet(messages_fts, 0, '**', '**', '…', 16) as snippet
            from messages_fts join messages m on m.rowid = messages_fts.rowid
            where messages_fts match ${match} and ${common}
            order by m.created_at desc, m.id desc limit ${limit + 1}`
        : sql<MessagesTable & { snippet: string }>`select m.*, ts_headline('simple', m.text, q,
              'StartSel=**, StopSel=**, MaxWords=24, MinWords=8, ShortWord=2') as snippet
            from messages m, plainto_tsquery('simple', ${words}) q
            where to_tsvector('simple', coalesce(m.text, '')) @@ q and ${common}
            order by m.created_at desc, m.id desc limit ${limit + 1}`;
    // SQLite indexes new text in batches after the commit: what is still
    // waiting is indexed first, so a search finds everything sent before it.
    await indexPendingText(this.#storage);
    const rows = (await query.execute(this.#storage.db)).rows;
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      results: page.map((row) => ({ message: this.#uploads.present(toMessage(row)), snippet: row.snippet })),
      nextCursor: rows.length > limit && last ? Buffer.from(JSON.stringify([last.created_at, last.id])).toString("base64url") : null,
    };
  }
}

function decode(cursor: string): [string, string] {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === "string")) return value as [string, string];
  } catch {
    // fall through
  }
  throw invalid("cursor is not one this server issued");
}
