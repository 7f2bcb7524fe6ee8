import { sql } from "kysely";
import type { Storage } from "./database.js";

/** Tables Parley updates in place on every message, read or delivery. */
const HOT_TABLES = ["conversations", "members", "users", "support_reads", "webhook_outbox"] as const;

/** How often the hot tables are vacuumed when the server's autovacuum is off. */
export const UPKEEP_INTERVAL_MS = 5_000;

export interface Upkeep {
  /** Whether Parley vacuums (the server's autovacuum is off). */
  readonly vacuuming: boolean;
  stop(): Promise<void>;
}

/**
 * Every message moves its conversation's counter and activity time, and
 * the activity time is indexed (inbox order), so each send leaves a dead
 * row version and index entries behind. Autovacuum clears them within
 * seconds on these small tables; on a server where it is off, they pile up
 * and every lookup of a busy conversation wades through them (measured:
 * the database's CPU per message grew fourfold within a minute at 750
 * msg/s). There Parley vacuums its hot tables itself, every few seconds,
 * skipping any table another node is vacuuming at that moment. Vacuum
 * visits only pages changed since the last one, and does not block reads
 * or writes.
 */
export async function startPostgresUpkeep(
  storage: Storage,
  onError: (err: unknown) => void,
  intervalMs = UPKEEP_INTERVAL_MS,
): Promise<Upkeep> {
  if (storage.dialect !== "postgres") return { vacuuming: false, stop: async () => {} };
  const { rows } = await sql<{ autovacuum: string }>`show autovacuum`.execute(storage.db);
  if (rows[0]?.autovacuum !== "off") return { vacuuming: false, stop: async () => {} };
  let running: Promise<void> | null = null;
  const timer = setInterval(() => {
    if (running) return;
    running = sql`vacuum (skip_locked) ${sql.join(HOT_TABLES.map((t) => sql.table(t)))}`
      .execute(storage.db)
      .then(() => undefined, onError)
      .finally(() => (running = null));
  }, intervalMs);
  timer.unref();
  return {
    vacuuming: true,
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
