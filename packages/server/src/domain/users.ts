import type { User } from "@parley/protocol";
import { sql } from "kysely";
import type { CommitGroup } from "../storage/commit-group.js";
import type { Storage } from "../storage/database.js";
import { StatementMerger } from "../storage/merged-statements.js";
import { isoNow, toJson, toUser } from "../storage/mappers.js";
import type { Principal } from "./principal.js";
import type { Db } from "./unit-of-work.js";

/**
 * The `users` table: one row per user id seen, with name, avatar and roles
 * from the latest token. Writes only when something changed.
 */
export class UserDirectory {
  readonly #storage: Storage;
  readonly #group: CommitGroup;
  /** id → serialized profile last written, to skip redundant upserts. */
  readonly #written = new Map<string, string>();

  /** `group` commits the writes of a connect or disconnect burst together. */
  constructor(storage: Storage, group: CommitGroup) {
    this.#storage = storage;
    this.#group = group;
  }

  /** Records the principal's profile (name, avatar, roles) when it changed. */
  async remember(principal: Principal): Promise<void> {
    if (principal.kind === "system") return;
    const profile = toJson([principal.name, principal.avatar, principal.roles]);
    if (this.#written.get(principal.id) === profile) return;
    const now = isoNow();
    // One statement per user, in the commit group's transaction: merged
    // into one statement per group (as last-seen times are), first connects
    // went slower, not faster (bench/README.md, item 34).
    await this.#group.run((trx) =>
      trx
        .insertInto("users")
        .values({
          id: principal.id,
          name: principal.name,
          avatar: principal.avatar,
          roles: toJson(principal.roles),
          created_at: now,
          last_seen_at: now,
        })
        .onConflict((oc) =>
          oc.column("id").doUpdateSet({ name: principal.name, avatar: principal.avatar, roles: toJson(principal.roles) }),
        )
        .execute(),
    );
    if (this.#written.size > 50_000) this.#written.clear();
    this.#written.set(principal.id, profile);
  }

  /** Forgets what was last written for `id` (its row was deleted): the next `remember` writes it again. */
  forget(id: string): void {
    this.#written.delete(id);
  }

  async get(id: string): Promise<User | null> {
    const row = await this.#storage.db.selectFrom("users").selectAll().where("id", "=", id).executeTakeFirst();
    return row ? toUser(row) : null;
  }

  /** The user, created with its id as name and no roles when never seen. */
  async getOrCreate(id: string): Promise<User> {
    const existing = await this.get(id);
    if (existing) return existing;
    await this.#storage.db
      .insertInto("users")
      .values({ id, name: id, avatar: null, roles: toJson([]), created_at: isoNow(), last_seen_at: null })
      .onConflict((oc) => oc.column("id").doNothing())
      .execute();
    return (await this.get(id))!;
  }

  /** `lastSeenAt` of each known user among `ids`. */
  async lastSeen(ids: readonly string[]): Promise<Map<string, string | null>> {
    if (ids.length === 0) return new Map();
    const rows = await this.#storage.db.selectFrom("users").select(["id", "last_seen_at"]).where("id", "in", [...ids]).execute();
    return new Map(rows.map((r) => [r.id, r.last_seen_at]));
  }

  /** Marks when a user was last seen (their last socket went away). */
  async touchLastSeen(id: string, at: string = isoNow()): Promise<void> {
    await this.#group.run(
      (db) => (this.#storage.sqlite ? setLastSeen(db, [{ id, at }]) : lastSeens.add(db, { id, at })),
      { oneStatement: true },
    );
  }
}

/** Stores when users were last seen; more than one only on PostgreSQL. */
async function setLastSeen(db: Db, seen: ReadonlyArray<{ id: string; at: string }>): Promise<void> {
  if (seen.length === 1) {
    await db.updateTable("users").set({ last_seen_at: seen[0]!.at }).where("id", "=", seen[0]!.id).execute();
    return;
  }
  await sql`update users set last_seen_at = v.at
    from unnest(${seen.map((s) => s.id)}::text[], ${seen.map((s) => s.at)}::timestamptz[]) as v(id, at)
    where users.id = v.id`.execute(db);
}

/**
 * The last of each id's items, in id order: two nodes writing overlapping
 * users lock their rows in the same order, so they wait for each other
 * rather than deadlock.
 */
function lastPerId<T extends { id: string }>(items: readonly T[]): T[] {
  return [...new Map(items.map((i) => [i.id, i])).values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * On PostgreSQL the last-seen times of a disconnect burst (a reconnect
 * storm, a deploy) that share a commit group are one statement, not one
 * round trip per user.
 */
const lastSeens = new StatementMerger<{ id: string; at: string }, void>(async (db, batch) => {
  await setLastSeen(db, lastPerId(batch.map((b) => b.item)));
  for (const b of batch) b.resolve();
});
