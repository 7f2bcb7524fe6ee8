import { DEFAULT_PAGE_LIMIT, type Conversation } from "@parley/protocol";
import { sql } from "kysely";
import type { PresenceStore } from "../presence/presence-store.js";
import type { Storage } from "../storage/database.js";
import { toConversation } from "../storage/mappers.js";
import { decodeActivityCursor, encodeActivityCursor } from "./activity-cursor.js";
import { forbidden } from "./parley-error.js";
import { isGuest, type Principal } from "./principal.js";

/** A channel as the directory shows it to someone who may not have joined it yet. */
export interface ChannelListing {
  conversation: Conversation;
  memberCount: number;
  /** The caller is a member. */
  joined: boolean;
}

export interface ChannelPage {
  channels: ChannelListing[];
  nextCursor: string | null;
}

/**
 * What people can discover before they belong: the open channels anyone
 * signed in may join, and whether the support desk has an operator online.
 */
export class DirectoryService {
  readonly #storage: Storage;
  readonly #presence: PresenceStore;

  constructor(storage: Storage, presence: PresenceStore) {
    this.#storage = storage;
    this.#presence = presence;
  }

  /** Open channels by last activity, with their member counts (not for guests). */
  async channels(p: Principal, input: { cursor?: string; limit?: number }): Promise<ChannelPage> {
    if (isGuest(p)) throw forbidden("Guests cannot browse channels");
    const limit = input.limit ?? DEFAULT_PAGE_LIMIT;
    let query = this.#storage.db
      .selectFrom("conversations as c")
      .selectAll("c")
      .select([
        sql<number>`(select count(*) from members x where x.conversation_id = c.id)`.as("member_count"),
        sql<number>`(select count(*) from members x where x.conversation_id = c.id and x.user_id = ${p.id})`.as("joined"),
      ])
      .where("c.kind", "=", "channel")
      .where("c.status", "=", "open")
      // Along `conversations_listed`: a channel's `listed_at` is its `activity_at`.
      .where("c.listed_at", "is not", null);
    if (input.cursor) {
      const [at, id] = decodeActivityCursor(input.cursor);
      query = query.where((eb) => eb.or([eb("c.listed_at", "<", at), eb.and([eb("c.listed_at", "=", at), eb("c.id", "<", id)])]));
    }
    const rows = await query.orderBy("c.listed_at", "desc").orderBy("c.id", "desc").limit(limit + 1).execute();
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      channels: page.map((row) => ({ conversation: toConversation(row), memberCount: Number(row.member_count), joined: Number(row.joined) > 0 })),
      nextCursor: rows.length > limit && last ? encodeActivityCursor(last.listed_at ?? last.activity_at, last.id) : null,
    };
  }

  /**
   * How many operators are online now (across nodes), so a visitor can be
   * told "We are online" or "We'll reply as soon as we can". Anyone signed in
   * may ask; it says how many, never who.
   */
  async supportAvailability(): Promise<{ operatorsOnline: number }> {
    const operators = await this.#storage.db
      .selectFrom("users")
      .select("id")
      .where(sql<boolean>`cast(roles as text) like ${'%"operator"%'}`)
      .orderBy("last_seen_at", "desc")
      .limit(500)
      .execute();
    const online = await this.#presence.online(operators.map((o) => o.id));
    return { operatorsOnline: online.size };
  }
}
