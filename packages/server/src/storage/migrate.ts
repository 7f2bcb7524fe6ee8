import { Migrator, type Kysely, type Migration, type MigrationResultSet } from "kysely";
import type { Storage } from "./database.js";
import * as initial from "./migrations/0001-initial.js";
import * as conversationLife from "./migrations/0002-conversation-life.js";
import * as sendPath from "./migrations/0003-send-path.js";
import * as textIndexAfterCommit from "./migrations/0004-text-index-after-commit.js";
import * as textIndexPendingList from "./migrations/0005-text-index-pending-list.js";
import * as supportVisitor from "./migrations/0006-support-visitor.js";
import * as changedMessagesIndex from "./migrations/0007-changed-messages-index.js";
import * as listedAt from "./migrations/0008-listed-at.js";
import { columnTypes, type ColumnTypes } from "./migrations/column-types.js";

type Step = { up(db: Kysely<unknown>, types: ColumnTypes): Promise<void> };

const steps: Record<string, Step> = {
  "0001-initial": initial,
  "0002-conversation-life": conversationLife,
  "0003-send-path": sendPath,
  "0004-text-index-after-commit": textIndexAfterCommit,
  "0005-text-index-pending-list": textIndexPendingList,
  "0006-support-visitor": supportVisitor,
  "0007-changed-messages-index": changedMessagesIndex,
  "0008-listed-at": listedAt,
};

/**
 * Brings the schema up to date. Safe to run on every start and from several
 * nodes at once (Kysely's migrator takes a lock).
 */
export async function migrateToLatest(storage: Storage): Promise<string[]> {
  const types = columnTypes(storage.dialect);
  const migrations: Record<string, Migration> = {};
  for (const [name, step] of Object.entries(steps)) {
    migrations[name] = { up: (db) => step.up(db, types) };
  }
  const migrator = new Migrator({
    db: storage.db,
    provider: { getMigrations: async () => migrations },
    migrationTableName: "parley_migrations",
    migrationLockTableName: "parley_migrations_lock",
  });
  const { error, results }: MigrationResultSet = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
}
