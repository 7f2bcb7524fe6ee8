import type { Storage } from "./database.js";
import { preparedStatement } from "./sqlite-statements.js";

/** How often messages waiting for the search index are indexed. */
export const TEXT_INDEX_INTERVAL_MS = 100;

const INDEX_PENDING_SQL =
  "insert into messages_fts (rowid, text) select m.rowid, m.text from messages_fts_pending p join messages m on m.rowid = p.message_rowid";
const CLEAR_PENDING_SQL = "delete from messages_fts_pending";
const ANY_PENDING_SQL = "select exists (select 1 from messages_fts_pending) as pending";

/**
 * On SQLite, indexes the text of the messages stored since the last time
 * (`messages_fts_pending`, filled by the insert trigger) in one transaction.
 * Indexing in the send's own transaction cost about 30 µs of each send (the
 * trigger's work, and a new index segment written at every commit); a batch
 * of a few hundred costs a fraction of that per message. It runs on Kysely's
 * connection once no transaction holds it, so it never joins one. A no-op
 * on PostgreSQL, whose index is maintained with the row.
 */
export async function indexPendingText(storage: Storage): Promise<void> {
  const sqlite = storage.sqlite;
  if (!sqlite) return;
  await storage.db.connection().execute(async () => {
    const { pending } = preparedStatement(sqlite, ANY_PENDING_SQL).get() as { pending: number };
    if (!pending) return;
    const index = sqlite.transaction(() => {
      preparedStatement(sqlite, INDEX_PENDING_SQL).run();
      preparedStatement(sqlite, CLEAR_PENDING_SQL).run();
    });
    // The index is derived data and needs no flush of its own: a crash that
    // loses this transaction loses it whole, and the pending rows are indexed
    // again. The next durable commit (or checkpoint) takes it to disk.
    if (storage.sqliteWal) storage.sqliteWal.withoutSync(() => index());
    else index();
  });
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
