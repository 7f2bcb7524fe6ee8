import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import SqliteDatabase from "better-sqlite3";
import pg from "pg";
import type { FreshDatabase } from "./fresh-database.js";

export interface SeedOptions {
  conversationId: string;
  messages: number;
  batch: number;
  /** Members whose read position moves to the newest message (readers who are caught up). */
  caughtUp: string[];
  /** Sender ids cycled through. */
  senders: string[];
}

export interface SeedResult {
  messages: number;
  elapsedMs: number;
}

const BASE_EPOCH = 1_700_000_000;
const TEXT = " with some ordinary chat text in it";

/**
 * Fills one conversation with `messages` messages straight through SQL, in
 * batches of `batch` rows per transaction, generated inside the database
 * (a recursive CTE on SQLite, generate_series on PostgreSQL) with the same
 * columns Parley writes: seq = revSeq = 1..n, ISO timestamps one second
 * apart. Then the conversation's counter and the caught-up readers' read
 * positions are set as Parley would have left them, and the database is
 * left as it would be some minutes later: checkpointed (SQLite), vacuumed,
 * analyzed and checkpointed (PostgreSQL).
 */
export async function seedHistory(db: FreshDatabase, options: SeedOptions): Promise<SeedResult> {
  const started = performance.now();
  const idPrefix = randomBytes(4).toString("hex");
  const lastAt = new Date((BASE_EPOCH + options.messages) * 1000).toISOString();
  if (db.kind === "sqlite") {
    if (!db.file) throw new Error("SQLite database without a file");
    const sqlite = new SqliteDatabase(db.file);
    try {
      sqlite.pragma("busy_timeout = 10000");
      sqlite.pragma("synchronous = OFF");
      const senders = JSON.stringify(options.senders);
      const insert = sqlite.prepare(`
        with recursive s(n) as (select cast(? as integer) union all select n + 1 from s where n < cast(? as integer))
        insert into messages (id, conversation_id, seq, rev_seq, sender_id, sender_name, type, text, attachments,
                              reply_to, metadata, client_id, created_at, edited_at, deleted_at, reactions)
        select printf('%s-0000-4000-8000-%012d', ?, n), ?, n, n,
               json_extract(?, '$[' || (n % cast(? as integer)) || ']'), 'Bench reader', 'text',
               'History message number ' || n || ?, '[]', null, '{}', null,
               strftime('%Y-%m-%dT%H:%M:%fZ', cast(? as integer) + n, 'unixepoch'), null, null, '{}'
        from s`);
      const batch = sqlite.transaction((from: number, to: number) =>
        insert.run(from, to, idPrefix, options.conversationId, senders, options.senders.length, TEXT, BASE_EPOCH),
      );
      for (let from = 1; from <= options.messages; from += options.batch) {
        batch(from, Math.min(options.messages, from + options.batch - 1));
      }
      sqlite
        .prepare("update conversations set last_seq = ?, last_message_at = ?, activity_at = ? where id = ?")
        .run(options.messages, lastAt, lastAt, options.conversationId);
      const read = sqlite.prepare("update members set last_read_seq = ?, last_read_at = ? where conversation_id = ? and user_id = ?");
      for (const userId of options.caughtUp) read.run(options.messages, lastAt, options.conversationId, userId);
      // A serving database checkpoints as it goes; after a bulk load of this
      // size the write-ahead log holds the whole load, and copying it back
      // would run during the measurement.
      sqlite.pragma("wal_checkpoint(TRUNCATE)");
    } finally {
      sqlite.close();
    }
  } else {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      for (let from = 1; from <= options.messages; from += options.batch) {
        const to = Math.min(options.messages, from + options.batch - 1);
        await client.query(
          `insert into messages (id, conversation_id, seq, rev_seq, sender_id, sender_name, type, text, attachments,
                                 reply_to, metadata, client_id, created_at, edited_at, deleted_at, reactions)
           select $1 || '-0000-4000-8000-' || lpad(n::text, 12, '0'), $2, n, n,
                  ($3::text[])[1 + (n % $4)], 'Bench reader', 'text',
                  'History message number ' || n || $5, '[]'::jsonb, null, '{}'::jsonb, null,
                  to_timestamp($6 + n), null, null, '{}'::jsonb
           from generate_series($7::bigint, $8::bigint) as n`,
          [idPrefix, options.conversationId, options.senders, options.senders.length, TEXT, BASE_EPOCH, from, to],
        );
      }
      await client.query("update conversations set last_seq = $1, last_message_at = $2, activity_at = $2 where id = $3", [
        options.messages,
        lastAt,
        options.conversationId,
      ]);
      await client.query(
        "update members set last_read_seq = $1, last_read_at = $2 where conversation_id = $3 and user_id = any($4::text[])",
        [options.messages, lastAt, options.conversationId, options.caughtUp],
      );
      // Autovacuum would vacuum and analyze the table soon after such a load
      // (it is off on some servers); do it now, so plans are the steady-state
      // ones and the first reads of each page do not write hint bits.
      await client.query("vacuum analyze messages");
      // The load wrote hundreds of megabytes of WAL: a checkpoint would start
      // soon and write the table back while pages are being timed. Minutes
      // later it would be over; have it now (needs superuser or
      // pg_checkpoint, which the bench's role has; without it, say so).
      await client.query("checkpoint").catch((err: unknown) => {
        process.stderr.write(`  (no checkpoint after the seed: ${(err as Error).message})\n`);
      });
    } finally {
      await client.end();
    }
  }
  return { messages: options.messages, elapsedMs: performance.now() - started };
}

/**
 * Waits until Parley's search index has taken every message the seed loaded
 * (SQLite indexes new text after its commit, a batch at a time, see
 * `sqlite-text-index.ts`; PostgreSQL indexes each row as it is written, so
 * there is nothing to wait for and this resolves to null). Resolves to the
 * time it found none waiting, in ms since `since` (a `performance.now()`);
 * throws after waiting `timeoutMs`.
 */
export async function waitForSearchIndex(db: FreshDatabase, since: number, timeoutMs: number): Promise<number | null> {
  if (db.kind !== "sqlite" || !db.file) return null;
  const started = performance.now();
  const sqlite = new SqliteDatabase(db.file, { readonly: true });
  try {
    const waiting = sqlite.prepare("select exists (select 1 from messages_fts_pending) as waiting");
    while ((waiting.get() as { waiting: number }).waiting) {
      if (performance.now() - started > timeoutMs) throw new Error(`the search index had not caught up after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return performance.now() - since;
  } finally {
    sqlite.close();
  }
}
