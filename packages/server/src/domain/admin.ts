import { sql } from "kysely";
import type { Storage } from "../storage/database.js";
import { toConversation, toJson, toMember, toMessage } from "../storage/mappers.js";
import { nextSeq } from "../storage/message-log.js";
import { loadAudience } from "./access.js";
import { forbidden, notFound } from "./parley-error.js";
import { isAdmin, type Principal } from "./principal.js";
import type { DomainEvents } from "./domain-events.js";
import type { UnitOfWork } from "./unit-of-work.js";
import type { UploadService } from "./uploads.js";
import type { UserDirectory } from "./users.js";

/** Totals and daily volume for `GET /v1/stats`. */
export interface Stats {
  totals: {
    messages: number;
    users: number;
    conversations: { direct: number; group: number; channel: number; support: number };
  };
  /** The last 30 days that had messages, oldest first, by UTC day. */
  messagesPerDay: Array<{ day: string; count: number }>;
}

/** Name left on an erased user's tombstones. */
const ERASED_NAME = "Deleted user";

/** What only admins (and the server API key) may do. */
export class AdminService {
  readonly #storage: Storage;
  readonly #uow: UnitOfWork;
  readonly #uploads: UploadService;
  readonly #users: UserDirectory;
  readonly #events: DomainEvents;

  constructor(storage: Storage, uow: UnitOfWork, uploads: UploadService, users: UserDirectory, events: DomainEvents) {
    this.#storage = storage;
    this.#uow = uow;
    this.#uploads = uploads;
    this.#users = users;
    this.#events = events;
  }

  async stats(p: Principal): Promise<Stats> {
    if (!isAdmin(p)) throw forbidden("Only admins see stats");
    const db = this.#storage.db;
    // Messages people wrote: "… joined" and other system notes count neither in the total nor per day.
    const countMessages = () =>
      db.selectFrom("messages").select((eb) => eb.fn.countAll().as("n")).where("type", "<>", "system").executeTakeFirstOrThrow();
    const countUsers = () => db.selectFrom("users").select((eb) => eb.fn.countAll().as("n")).executeTakeFirstOrThrow();
    const since = new Date(Date.now() - 29 * 86400_000).toISOString().slice(0, 10);
    const day =
      this.#storage.dialect === "sqlite" ? sql<string>`substr(created_at, 1, 10)` : sql<string>`to_char(created_at at time zone 'UTC', 'YYYY-MM-DD')`;
    const [messages, users, kinds, perDay] = await Promise.all([
      countMessages(),
      countUsers(),
      db.selectFrom("conversations").select(["kind", (eb) => eb.fn.countAll().as("n")]).groupBy("kind").execute(),
      db
        .selectFrom("messages")
        .select([day.as("day"), (eb) => eb.fn.countAll().as("n")])
        .where("created_at", ">=", since)
        .where("type", "<>", "system")
        .groupBy(day)
        .orderBy(day)
        .execute(),
    ]);
    const conversations = { direct: 0, group: 0, channel: 0, support: 0 };
    for (const k of kinds) if (k.kind in conversations) conversations[k.kind as keyof typeof conversations] = Number(k.n);
    return {
      totals: { messages: Number(messages.n), users: Number(users.n), conversations },
      messagesPerDay: perDay.map((r) => ({ day: r.day, count: Number(r.n) })),
    };
  }

  /**
   * Erases a user: their messages become tombstones (text, attachments and
   * name removed), their memberships, read positions and uploads go, and so
   * does their user row. Members see the tombstones and departures live.
   */
  async eraseUser(p: Principal, userId: string): Promise<void> {
    if (!isAdmin(p)) throw forbidden("Only admins erase users");
    const db = this.#storage.db;
    const known =
      (await db.selectFrom("users").select("id").where("id", "=", userId).executeTakeFirst()) ??
      (await db.selectFrom("messages").select("id").where("sender_id", "=", userId).executeTakeFirst()) ??
      (await db.selectFrom("members").select("user_id").where("user_id", "=", userId).executeTakeFirst());
    if (!known) throw notFound("No such user");

    const conversationIds = new Set([
      ...(await db.selectFrom("messages").select("conversation_id").distinct().where("sender_id", "=", userId).execute()).map(
        (r) => r.conversation_id,
      ),
      ...(await db.selectFrom("members").select("conversation_id").where("user_id", "=", userId).execute()).map((r) => r.conversation_id),
    ]);
    const filesToRemove: string[] = [];
    const now = new Date().toISOString();
    for (const conversationId of conversationIds) {
      await this.#uow.run(async (trx, emit) => {
        const before = await trx.selectFrom("conversations").selectAll().where("id", "=", conversationId).executeTakeFirstOrThrow();
        const audience = await loadAudience(trx, before);
        const member = await trx
          .selectFrom("members as m")
          .leftJoin("users as u", "u.id", "m.user_id")
          .selectAll("m")
          .select("u.name")
          .where("m.conversation_id", "=", conversationId)
          .where("m.user_id", "=", userId)
          .executeTakeFirst();
        const messages = await trx
          .selectFrom("messages")
          .select(["id", "deleted_at"])
          .where("conversation_id", "=", conversationId)
          .where("sender_id", "=", userId)
          .execute();
        for (const m of messages) {
          filesToRemove.push(...(await this.#uploads.detach(trx, m.id)));
          const seq = await nextSeq(trx, conversationId, null);
          const row = await trx
            .updateTable("messages")
            .set({
              text: null,
              attachments: toJson([]),
              reactions: toJson({}),
              metadata: toJson({}),
              sender_name: ERASED_NAME,
              deleted_at: m.deleted_at ?? now,
              rev_seq: seq,
            })
            .where("id", "=", m.id)
            .returningAll()
            .executeTakeFirstOrThrow();
          if (!m.deleted_at) emit({ type: "message.deleted", conversation: toConversation(before), message: toMessage(row), audience });
        }
        if (member) {
          await trx.deleteFrom("members").where("conversation_id", "=", conversationId).where("user_id", "=", userId).execute();
          emit({ type: "member.left", conversation: toConversation(before), member: toMember({ ...member, name: ERASED_NAME }), audience });
        }
      });
    }
    await this.#uow.run(async (trx) => {
      await trx.deleteFrom("hidden_messages").where("user_id", "=", userId).execute();
      await trx.deleteFrom("support_reads").where("user_id", "=", userId).execute();
      const owned = await trx.selectFrom("uploads").select("id").where("owner_id", "=", userId).execute();
      if (owned.length > 0) {
        await trx.deleteFrom("message_attachments").where("upload_id", "in", owned.map((u) => u.id)).execute();
        await trx.deleteFrom("uploads").where("owner_id", "=", userId).execute();
        filesToRemove.push(...owned.map((u) => u.id));
      }
      await trx.deleteFrom("users").where("id", "=", userId).execute();
    });
    // A later token of theirs starts afresh (a new users row), on a new connection.
    this.#users.forget(userId);
    this.#events.publishUserErased(userId);
    await this.#uploads.removeFiles(filesToRemove);
  }
}
