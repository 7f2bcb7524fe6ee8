import { setImmediate as nextTurn } from "node:timers/promises";
import type { Storage } from "./database.js";
import { preparedStatement } from "./sqlite-statements.js";

/** How often messages waiting for the search index are indexed. */
export const TEXT_INDEX_INTERVAL_MS = 100;

/**
 * Most messages one transaction of the index takes. Indexing runs on the
 * event loop, about 2 µs a message and more when FTS5 merges its segments:
 * over a backlog of 200,000 messages a batch of a thousand held the loop
 * for at most 13 to 23 ms. A busy server has a few hundred waiting at each
 * interval; a backlog
 * (messages loaded through SQL, a server that was stopped mid-stream) is
 * indexed a batch at a time, other work running between batches.
 */
export const TEXT_INDEX_BATCH = 1000;

/** The rowid that ends the next batch (at most `?` of the oldest waiting), or null when none wait. */
const BATCH_END_SQL =
  "select max(message_rowid) as last from (select message_rowid from messages_fts_pending order by message_rowid limit ?)";
// CROSS JOIN keeps the waiting list as the outer loop: with a plain join,
// SQLite carries the bound over to `m.rowid` and walks every message up to
// it (28.7 ms a pass of 300 against a table of 200,000 messages, 0.95 ms
// this way).
const INDEX_UP_TO_SQL =
  "insert into messages_fts (rowid, text) select m.rowid, m.text from messages_fts_pending p cross join messages m on m.rowid = p.message_rowid where p.message_rowid <= ?";
const CLEAR_UP_TO_SQL = "delete from messages_fts_pending where message_rowid <= ?";

/**
 * On SQLite, indexes the text of the messages stored since the last time
 * (`messages_fts_pending`, filled by the insert trigger), a batch of at most
 * `batch` per transaction, oldest first, letting the event loop run between
 * batches; resolves once none wait. Indexing in the send's own transaction
 * cost about 30 µs of each send (the trigger's work, and a new index segment
 * written at every commit); a batch of a few hundred costs a fraction of
 * that per message. Each batch runs on Kysely's connection once no
 * transaction holds it, so it never joins one. A no-op on PostgreSQL, whose
 * index is maintained with the row.
 */
export async function indexPendingText(storage: Storage, batch = TEXT_INDEX_BATCH): Promise<void> {
  const sqlite = storage.sqlite;
  if (!sqlite) return;
  for (;;) {
    const more = await storage.db.connection().execute(async () => {
      const { last } = preparedStatement(sqlite, BATCH_END_SQL).get(batch) as { last: number | null };
      if (last === null) return false;
      let cleared = 0;
      const index = sqlite.transaction(() => {
        preparedStatement(sqlite, INDEX_UP_TO_SQL).run(last);
        cleared = preparedStatement(sqlite, CLEAR_UP_TO_SQL).run(last).changes;
      });
      // The index is derived data and needs no flush of its own: a crash that
      // loses this transaction loses it whole, and the pending rows are indexed
      // again. The next durable commit (or checkpoint) takes it to disk.
      if (storage.sqliteWal) storage.sqliteWal.withoutSync(() => index());
      else index();
      return cleared >= batch;
    });
    if (!more) return;
    await nextTurn();
  }
}

export interface TextIndexer {
  /** Stops the timer and indexes what is still waiting. */
  stop(): Promise<void>;
}

/** Indexes waiting message text every {@link TEXT_INDEX_INTERVAL_MS} on SQLite; nothing on PostgreSQL. */
export function startTextIndexer(storage: Storage, onError: (err: unknown) => void, intervalMs = TEXT_INDEX_INTERVAL_MS): TextIndexer {
  if (!storage.sqlite) return { stop: async () => {} };
  let running: Promise<void> | null = null;
  const tick = () => {
    running ??= indexPendingText(storage)
      .catch(onError)
      .finally(() => (running = null));
    return running;
  };
  const timer = setInterval(() => void tick(), intervalMs);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
      await tick();
    },
  };
}
