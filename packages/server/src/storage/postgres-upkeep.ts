import { sql } from "kysely";
import type { Storage } from "./database.js";

/** Tables Parley updates in place on every message, read or delivery. */
const HOT_TABLES = ["conversations", "members", "users", "support_reads", "webhook_outbox"] as const;

/** How often the hot tables are vacuumed when the server's autovacuum is off. */
export const UPKEEP_INTERVAL_MS = 5_000;

/**
 * How often the text index's pending list is merged: a second's messages
 * at a few thousand a second are a few hundred KB of it, far from the 4 MB
 * (`gin_pending_list_limit`) at which an insert would merge it itself.
 */
export const TEXT_INDEX_MERGE_MS = 1_000;

/** A failing merge is reported at most this often. */
const MERGE_REPORT_MS = 60_000;

/** How long a merge waits for another node's before skipping its turn. */
const MERGE_LOCK_TIMEOUT = "100ms";

/** PostgreSQL's error codes: a lock wait timed out; the role lacks a privilege. */
const LOCK_NOT_AVAILABLE = "55P03";
const INSUFFICIENT_PRIVILEGE = "42501";

/** Moves the text index's pending list into the index, unless another node is doing it. */
async function mergeTextIndex(storage: Storage): Promise<void> {
  await storage.db.transaction().execute(async (trx) => {
    await sql`set local lock_timeout = ${sql.lit(MERGE_LOCK_TIMEOUT)}`.execute(trx);
    await sql`select gin_clean_pending_list('messages_text_search'::regclass)`.execute(trx);
  });
}

export interface Upkeep {
  /** Whether Parley vacuums (the server's autovacuum is off). */
  readonly vacuuming: boolean;
  stop(): Promise<void>;
}

export interface UpkeepIntervals {
  vacuumMs?: number;
  textIndexMergeMs?: number;
}

/** Runs `work` every `ms`, one run at a time; `stop` waits for the run in flight. */
function every(ms: number, work: () => Promise<unknown>, onError: (err: unknown) => void): () => Promise<void> {
  let running: Promise<void> | null = null;
  const timer = setInterval(() => {
    if (running) return;
    running = work()
      .then(() => undefined, onError)
      .finally(() => (running = null));
  }, ms);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}

/**
 * Background upkeep of Parley's PostgreSQL tables.
 *
 * The text index. A message's words go to the GIN index's pending list
 * (`fastupdate`, migration 0005), a cheap append, and Parley merges the list
 * into the index every second, beside the sends, so they neither write the
 * index's entry trees themselves nor find the list full and merge it inside
 * an insert. Measured in the bench's fan-out with everyday chat text at
 * 2,500 msg/s: each insert writing its ten or so words into the index
 * itself (`fastupdate = off`) put p50 at 92 to 232 ms and p99 over a
 * second; with the pending list, p50 7 ms and p99 27 ms. Searches read the
 * pending list too, so nothing sent is missed. Where several nodes share the
 * database, one merges at a time: a node that would wait more than
 * {@link MERGE_LOCK_TIMEOUT} for another's merge skips its turn. A role that
 * may not merge (it does not own the index, e.g. when another role ran the
 * migrations) is reported once and not asked again; inserts then merge the
 * list as it fills. Other failures are reported at most once a minute.
 *
 * The hot tables. Every message moves its conversation's counter and
 * activity time, and the activity time is indexed (inbox order), so each
 * send leaves a dead row version and index entries behind. Autovacuum
 * clears them within seconds on these small tables; on a server where it
 * is off, they pile up and every lookup of a busy conversation wades
 * through them (measured: the database's CPU per message grew fourfold
 * within a minute at 750 msg/s). There Parley vacuums its hot tables
 * itself, every few seconds, skipping any table another node is vacuuming
 * at that moment. Vacuum visits only pages changed since the last one, and
 * does not block reads or writes.
 */
export async function startPostgresUpkeep(
  storage: Storage,
  onError: (err: unknown) => void,
  intervals: UpkeepIntervals = {},
): Promise<Upkeep> {
  if (storage.dialect !== "postgres") return { vacuuming: false, stop: async () => {} };
  const { rows } = await sql<{ autovacuum: string }>`show autovacuum`.execute(storage.db);
  const vacuuming = rows[0]?.autovacuum === "off";
  let mergeReportedAt = -Infinity;
  let mayMerge = true;
  const stops = [
    every(
      intervals.textIndexMergeMs ?? TEXT_INDEX_MERGE_MS,
      async () => {
        if (mayMerge) await mergeTextIndex(storage);
      },
      (err) => {
        const code = (err as { code?: unknown } | null)?.code;
        if (code === LOCK_NOT_AVAILABLE) return;
        if (code === INSUFFICIENT_PRIVILEGE) {
          mayMerge = false;
          onError(new Error("this database role may not merge the text index's pending list (it does not own messages_text_search); inserts will merge it as it fills", { cause: err }));
          return;
        }
        if (Date.now() - mergeReportedAt < MERGE_REPORT_MS) return;
        mergeReportedAt = Date.now();
        onError(err);
      },
    ),
  ];
  if (vacuuming) {
    stops.push(
      every(
        intervals.vacuumMs ?? UPKEEP_INTERVAL_MS,
        () => sql`vacuum (skip_locked) ${sql.join(HOT_TABLES.map((t) => sql.table(t)))}`.execute(storage.db),
        onError,
      ),
    );
  }
  return {
    vacuuming,
    stop: async () => {
      await Promise.all(stops.map((stop) => stop()));
    },
  };
}
