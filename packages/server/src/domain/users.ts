import type { User } from "@parley/protocol";
import type { CommitGroup } from "../storage/commit-group.js";
import type { Storage } from "../storage/database.js";
import { isoNow, toJson, toUser } from "../storage/mappers.js";
import type { Principal } from "./principal.js";

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
    await this.#group.run((trx) => trx.updateTable("users").set({ last_seen_at: at }).where("id", "=", id).execute());
  }
}
