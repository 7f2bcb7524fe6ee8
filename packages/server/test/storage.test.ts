import { sql, type Kysely, type KyselyPlugin, type Transaction } from "kysely";
import { afterAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { openStorage, timestamptzToIso, type Storage } from "../src/storage/database.js";
import type { DomainEvent } from "../src/domain/domain-events.js";
import { migrateToLatest } from "../src/storage/migrate.js";
import * as supportVisitor from "../src/storage/migrations/0006-support-visitor.js";
import * as listedAt from "../src/storage/migrations/0008-listed-at.js";
import { columnTypes } from "../src/storage/migrations/column-types.js";
import { startPostgresUpkeep, type Upkeep } from "../src/storage/postgres-upkeep.js";
import { appendStatement, historyPageQuery, newMessageId, syncPageQuery } from "../src/storage/message-log.js";
import pg from "pg";
import { validate as isUuid, version as uuidVersion } from "uuid";
import type { Database } from "../src/storage/schema.js";
import { loadConfig, type Config } from "../src/config/config.js";
import { createDomain } from "../src/domain/parley-domain.js";
import type { Principal } from "../src/domain/principal.js";
import { backends } from "./support/backends.js";
import { MemoryPresence } from "../src/presence/presence-memory.js";
import { MemoryRateLimiter } from "../src/rate-limit/rate-limiter-memory.js";
import { WebhookOutbox } from "../src/webhooks/webhook-outbox.js";

const system: Principal = { id: "parley:system", name: "Parley", avatar: null, roles: ["admin"], kind: "system", expiresAt: null };
const user = (id: string): Principal => ({ id, name: id.toUpperCase(), avatar: null, roles: [], kind: "user", expiresAt: null });

describe.each(backends())("storage on $name", (backend) => {
  afterAll(() => backend.cleanup());

  async function open(overrides: Partial<Config> = {}) {
    const storage = openStorage(await backend.create());
    await migrateToLatest(storage);
    const config = loadConfig({ env: {}, overrides: { jwtSecret: "x".repeat(32), apiKey: "y".repeat(32), ...overrides } });
    const presence = new MemoryPresence();
    return { storage, domain: createDomain(storage, config, { presence, limiter: new MemoryRateLimiter(), recorder: new WebhookOutbox(config, presence) }) };
  }

  /** {@link open} on PostgreSQL; `null` on SQLite, which has no GIN index and no upkeep. */
  async function openPostgres() {
    return backend.name === "postgres" ? open() : null;
  }

  it("migrates once and is a no-op the second time", async () => {
    const storage = openStorage(await backend.create());
    try {
      expect(await migrateToLatest(storage)).toEqual(["0001-initial", "0002-conversation-life", "0003-send-path", "0004-text-index-after-commit", "0005-text-index-pending-list", "0006-support-visitor", "0007-changed-messages-index", "0008-listed-at"]);
      expect(await migrateToLatest(storage)).toEqual([]);
    } finally {
      await storage.destroy();
    }
  });

  it("makes the visitor the creator of support conversations the host opened before 0006", async () => {
    const storage = openStorage(await backend.create());
    try {
      await migrateToLatest(storage);
      const now = new Date().toISOString();
      const conversation = (id: string, kind: string, createdBy: string) => ({
        id, kind, metadata: "{}", status: "open", created_by: createdBy, created_at: now, activity_at: now,
      });
      await storage.db
        .insertInto("conversations")
        .values([conversation("s1", "support", "parley:system"), conversation("s2", "support", "vera"), conversation("g1", "group", "parley:system")])
        .execute();
      const member = (conversationId: string, userId: string, joinedAt: string) => ({ conversation_id: conversationId, user_id: userId, role: "member", joined_at: joinedAt });
      await storage.db
        .insertInto("members")
        .values([member("s1", "vic", "2026-01-01T00:00:00.000Z"), member("s1", "olivia", "2026-01-02T00:00:00.000Z"), member("s2", "vera", now), member("g1", "amy", now)])
        .execute();
      await supportVisitor.up(storage.db as unknown as Kysely<unknown>, columnTypes(storage.dialect));
      const creators = await storage.db.selectFrom("conversations").select(["id", "created_by"]).orderBy("id").execute();
      expect(creators).toEqual([
        { id: "g1", created_by: "parley:system" },
        { id: "s1", created_by: "vic" },
        { id: "s2", created_by: "vera" },
      ]);
    } finally {
      await storage.destroy();
    }
  });

  it("keeps the support queue and the channel directory in order of activity, for conversations stored before 0008 too, and indexes no other kind", async () => {
    const { storage, domain } = await open();
    try {
      const tick = () => new Promise((resolve) => setTimeout(resolve, 5));
      const before = new Date(Date.now() - 60_000).toISOString();
      // Rows as 0007 left them: no listed_at, the old index over every conversation's activity.
      await sql`drop index conversations_listed`.execute(storage.db);
      await sql`alter table conversations drop column listed_at`.execute(storage.db);
      await sql`create index conversations_kind_activity on conversations (kind, activity_at, id)`.execute(storage.db);
      for (const [id, kind] of [["s0", "support"], ["c0", "channel"], ["g0", "group"]]) {
        await sql`insert into conversations (id, kind, metadata, status, created_at, activity_at) values (${id}, ${kind}, '{}', 'open', ${before}, ${before})`.execute(storage.db);
      }
      await sql`insert into members (conversation_id, user_id, role, joined_at) values ('s0', 'vera', 'member', ${before}), ('g0', 'a', 'member', ${before})`.execute(storage.db);
      await listedAt.up(storage.db as unknown as Kysely<unknown>, columnTypes(storage.dialect));

      // What an operator who is in none of them sees in the queue, and anyone in the channel directory.
      const olga: Principal = { ...user("olga"), roles: ["operator"] };
      const queue = async () => (await domain.conversations.list(olga, { kind: "support" })).conversations.map((c) => c.id);
      const channels = async () => (await domain.directory.channels(user("zed"), {})).channels.map((c) => c.conversation.id);
      expect([await queue(), await channels()]).toEqual([["s0"], ["c0"]]);

      // New conversations, then sends on every path: a member's, an operator's first answer (which joins), a post that joins a channel, a system notice.
      const support = (await domain.conversations.create(user("vic"), { kind: "support" })).conversation;
      const channel = (await domain.conversations.create(system, { kind: "channel", title: "news", members: ["a"] })).conversation;
      const group = (await domain.conversations.create(system, { kind: "group", members: ["a", "b"] })).conversation;
      const direct = (await domain.conversations.create(user("a"), { kind: "direct", members: ["b"] })).conversation;
      expect([await queue(), await channels()]).toEqual([[support.id, "s0"], [channel.id, "c0"]]);
      await tick();
      await domain.messages.send(user("vera"), "s0", { text: "still there?" });
      await domain.messages.send(system, "c0", { text: "notice" });
      expect([await queue(), await channels()]).toEqual([["s0", support.id], ["c0", channel.id]]);
      await tick();
      await domain.messages.send(user("vic"), support.id, { text: "help" });
      await domain.messages.send(user("b"), channel.id, { text: "joined" });
      expect([await queue(), await channels()]).toEqual([[support.id, "s0"], [channel.id, "c0"]]);
      await tick();
      await domain.messages.send(olga, "s0", { text: "on it" });
      expect(await queue()).toEqual(["s0", support.id]);
      await domain.messages.send(user("a"), group.id, { text: "hi" });
      await domain.messages.send(user("a"), direct.id, { text: "hi" });
      await domain.messages.send(system, group.id, { text: "notice" });

      // Sends elsewhere leave the lists' index alone: only support and channel conversations are in it.
      const indexed = await storage.db.selectFrom("conversations").select("id").where("listed_at", "is not", null).orderBy("id").execute();
      expect(indexed.map((c) => c.id).sort()).toEqual(["c0", "s0", channel.id, support.id].sort());
    } finally {
      await storage.destroy();
    }
  });

  it("returns the same value shapes on every database", async () => {
    const { storage, domain } = await open();
    try {
      await domain.users.remember(user("alice"));
      const { conversation } = await domain.conversations.create(system, {
        kind: "group",
        members: ["alice"],
        metadata: { booking: { id: 42, paid: true }, tags: ["a", "b"] },
      });
      const { message } = await domain.messages.send(user("alice"), conversation.id, {
        clientId: "c1",
        text: "hello",
        metadata: { n: 1.5 },
      });
      expect(message).toEqual({
        id: expect.any(String),
        conversationId: conversation.id,
        seq: 1,
        revSeq: 1,
        senderId: "alice",
        senderName: "ALICE",
        type: "text",
        text: "hello",
        attachments: [],
        replyTo: null,
        metadata: { n: 1.5 },
        clientId: "c1",
        createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        editedAt: null,
        deletedAt: null,
        reactions: {},
      });
      const [reread] = (await domain.messages.history(user("alice"), conversation.id)).messages;
      expect(reread).toEqual(message);
      const { conversation: fresh, members } = await domain.conversations.get(system, conversation.id);
      expect(fresh).toMatchObject({ lastSeq: 1, metadata: { booking: { id: 42, paid: true }, tags: ["a", "b"] } });
      expect(fresh.lastMessageAt).toBe(message.createdAt);
      expect(members).toEqual([
        // Sending marks everything up to one's own message as read.
        { userId: "alice", role: "member", name: "ALICE", joinedAt: expect.any(String), lastReadSeq: 1, lastReadAt: message.createdAt, lastDeliveredSeq: 0 },
      ]);
    } finally {
      await storage.destroy();
    }
  });

  it("gives every change the next seq, under concurrency, without gaps or repeats", async () => {
    const { storage, domain } = await open();
    try {
      const { conversation } = await domain.conversations.create(system, { kind: "group", members: ["a", "b"] });
      const sends = await Promise.all(
        Array.from({ length: 40 }, (_, i) => domain.messages.send(user(i % 2 ? "a" : "b"), conversation.id, { clientId: `k${i}`, text: `m${i}` })),
      );
      const seqs = sends.map((s) => s.message.seq).sort((x, y) => x - y);
      expect(seqs).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      // Ids are unique and time-ordered (UUIDv7): in seq order they sort as
      // strings too, so new rows go to the end of the primary-key index.
      const ids = [...sends].sort((x, y) => x.message.seq - y.message.seq).map((s) => s.message.id);
      expect(new Set(ids).size).toBe(40);
      for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect([...ids].sort()).toEqual(ids);
      const edited = await domain.messages.edit(user("a"), conversation.id, sends.find((s) => s.message.senderId === "a")!.message.id, "edited");
      expect(edited.revSeq).toBe(41);
    } finally {
      await storage.destroy();
    }
  });

  it("stores sends that arrive together (one group, one statement on PostgreSQL) each in its place, and keeps retries and strangers apart", async () => {
    const { storage, domain } = await open();
    try {
      const conversations = await Promise.all(
        [0, 1, 2].map(async (n) => (await domain.conversations.create(system, { kind: "group", members: [`a${n}`, `b${n}`, `c${n}`] })).conversation),
      );
      const first = await domain.messages.send(user("a0"), conversations[0]!.id, { clientId: "again", text: "first" });
      // One turn of the event loop: 30 sends over three conversations, a retry of a stored message,
      // two sends with one new clientId, and a stranger's send, whose access checks also go together.
      const sends = conversations.flatMap((c, n) =>
        Array.from({ length: 10 }, (_, i) => ({ c, from: `${"abc"[i % 3]}${n}`, text: `${n}:${i}` })),
      );
      const results = await Promise.allSettled([
        ...sends.map((s, i) => domain.messages.send(user(s.from), s.c.id, { clientId: `k${i}`, text: s.text })),
        domain.messages.send(user("a0"), conversations[0]!.id, { clientId: "again", text: "first" }),
        domain.messages.send(user("b1"), conversations[1]!.id, { clientId: "twice", text: "once" }),
        domain.messages.send(user("b1"), conversations[1]!.id, { clientId: "twice", text: "once" }),
        domain.messages.send(user("stranger"), conversations[2]!.id, { text: "let me in" }),
      ]);
      const value = (i: number) => {
        const r = results[i]!;
        if (r.status === "rejected") throw r.reason;
        return r.value;
      };
      const stranger = results.at(-1)!;
      expect(stranger.status === "rejected" && (stranger.reason as { code?: string }).code).toBe("forbidden");
      expect(value(30)).toMatchObject({ duplicate: true, message: { id: first.message.id, seq: 1 } });
      expect([value(31).message.id, value(32).message.id]).toEqual([value(31).message.id, value(31).message.id]);
      expect([value(31).duplicate, value(32).duplicate].sort()).toEqual([false, true]);

      for (const [n, c] of conversations.entries()) {
        const stored = await storage.db.selectFrom("messages").select(["seq", "text", "sender_id"]).where("conversation_id", "=", c.id).orderBy("seq").execute();
        const expected = sends.filter((s) => s.c === c).map((s) => s.text);
        const extra = n === 0 ? ["first"] : n === 1 ? ["once"] : [];
        expect(stored.map((m) => m.seq)).toEqual(Array.from({ length: 10 + extra.length }, (_, i) => i + 1));
        // Sends arrive in order; the retry and the twice-sent message come after the first ten.
        expect(stored.map((m) => m.text)).toEqual(n === 0 ? ["first", ...expected] : [...expected, ...extra]);
        const { last_seq } = await storage.db.selectFrom("conversations").select("last_seq").where("id", "=", c.id).executeTakeFirstOrThrow();
        expect(last_seq).toBe(stored.length);
        // Each sender has read up to their own last message.
        const members = await storage.db.selectFrom("members").select(["user_id", "last_read_seq"]).where("conversation_id", "=", c.id).execute();
        for (const m of members) {
          expect(m.last_read_seq, m.user_id).toBe(Math.max(...stored.filter((s) => s.sender_id === m.user_id).map((s) => s.seq)));
        }
      }
    } finally {
      await storage.destroy();
    }
  });

  it("stores a member's text send with one statement on PostgreSQL, and answers strangers, closed conversations, retries and the rate limit as before", async () => {
    const { storage } = await open();
    // Every statement Parley sends, counted as its result comes back.
    const statements: string[] = [];
    const counter: KyselyPlugin = {
      transformQuery: ({ node }) => node,
      transformResult: async ({ result }) => (statements.push("executed"), result),
    };
    const counted: Storage = { ...storage, db: storage.db.withPlugin(counter), batchDb: storage.batchDb.withPlugin(counter) };
    const config = loadConfig({ env: { PARLEY_RATE_MESSAGES: "1/s,3" }, overrides: { jwtSecret: "x".repeat(32), apiKey: "y".repeat(32) } });
    const presence = new MemoryPresence();
    const domain = createDomain(counted, config, { presence, limiter: new MemoryRateLimiter(), recorder: new WebhookOutbox(config, presence) });
    const events: DomainEvent[] = [];
    domain.events.subscribe((e) => events.push(e));
    try {
      const { conversation } = await domain.conversations.create(system, { kind: "group", members: ["a", "b"] });
      const { conversation: channel } = await domain.conversations.create(system, { kind: "channel", title: "news", members: ["a"] });
      const { conversation: closed } = await domain.conversations.create(system, { kind: "support", members: ["a"] });
      await domain.conversations.resolve(system, closed.id);

      statements.length = 0;
      const sent = await domain.messages.send(user("a"), conversation.id, { clientId: "k1", text: "hello" });
      expect(sent).toMatchObject({ duplicate: false, message: { seq: 1, senderId: "a", text: "hello" } });
      if (storage.dialect === "postgres") expect(statements).toHaveLength(1);
      const created = events.filter((e) => e.type === "message.created").at(-1)!;
      expect(created).toMatchObject({ conversation: { id: conversation.id, lastSeq: 1, kind: "group", lastMessageAt: sent.message.createdAt } });
      expect(created.type === "message.created" && [...created.audience.userIds].sort()).toEqual(["a", "b"]);

      // A retry answers with the stored message; a channel's send goes to its watchers.
      expect(await domain.messages.send(user("a"), conversation.id, { clientId: "k1", text: "hello" })).toMatchObject({ duplicate: true, message: { id: sent.message.id } });
      await domain.messages.send(user("a"), channel.id, { text: "news" });
      expect(events.filter((e) => e.type === "message.created").at(-1)).toMatchObject({ conversation: { id: channel.id, kind: "channel" }, audience: { userIds: [] } });

      // Refusals, as on the path that loads access first.
      await expect(domain.messages.send(user("stranger"), conversation.id, { text: "let me in" })).rejects.toMatchObject({ code: "forbidden" });
      await expect(domain.messages.send(user("a"), closed.id, { text: "still there?" })).rejects.toMatchObject({ code: "conflict" });
      await expect(domain.messages.send(user("a"), "no-such-conversation", { text: "anyone?" })).rejects.toMatchObject({ code: "not_found" });
      // "a" has used its burst of 3; over the limit, a new send is refused, a retry still answered.
      await expect(domain.messages.send(user("a"), conversation.id, { text: "more" })).rejects.toMatchObject({ code: "rate_limited" });
      expect(await domain.messages.send(user("a"), conversation.id, { clientId: "k1", text: "hello" })).toMatchObject({ duplicate: true });

      const stored = await storage.db.selectFrom("messages").select(["conversation_id", "text"]).where("type", "=", "text").orderBy("text").execute();
      expect(stored).toEqual([
        { conversation_id: conversation.id, text: "hello" },
        { conversation_id: channel.id, text: "news" },
      ]);
    } finally {
      await storage.destroy();
    }
  });

  it("reads a member's history and sync pages with their access check in one statement on PostgreSQL, pages asked together in one, and answers everyone else as before", async () => {
    const { storage } = await open();
    const statements: string[] = [];
    const counter: KyselyPlugin = {
      transformQuery: ({ node }) => node,
      transformResult: async ({ result }) => (statements.push("executed"), result),
    };
    const counted: Storage = { ...storage, db: storage.db.withPlugin(counter), batchDb: storage.batchDb.withPlugin(counter) };
    const config = loadConfig({ env: {}, overrides: { jwtSecret: "x".repeat(32), apiKey: "y".repeat(32) } });
    const presence = new MemoryPresence();
    const domain = createDomain(counted, config, { presence, limiter: new MemoryRateLimiter(), recorder: new WebhookOutbox(config, presence) });
    try {
      const { conversation } = await domain.conversations.create(system, { kind: "group", members: ["a", "b"] });
      const { conversation: channel } = await domain.conversations.create(system, { kind: "channel", title: "news", members: ["a"] });
      const sent: string[] = [];
      for (const text of ["one", "two", "three", "four", "five"]) sent.push((await domain.messages.send(user("a"), conversation.id, { text })).message.id);
      await domain.messages.delete(user("b"), conversation.id, sent[1]!, "me");
      await domain.messages.edit(user("a"), conversation.id, sent[3]!, "four, edited");
      await domain.messages.send(user("a"), channel.id, { text: "news" });
      const texts = (page: { messages: Array<{ text: string | null; hidden?: boolean }> }) => page.messages.map((m) => (m.hidden ? "(hidden)" : m.text));
      const b = user("b");

      // Asked in the same turn, as in a reconnect storm: one statement for the histories, one for the syncs.
      statements.length = 0;
      const [newest, older, all, synced, unread] = await Promise.all([
        domain.messages.history(b, conversation.id, undefined, 2),
        domain.messages.history(b, conversation.id, 4, 10),
        domain.messages.history(b, conversation.id, undefined, 10),
        domain.messages.sync(b, conversation.id, 0, 10),
        domain.messages.sync(b, conversation.id, 5, 1),
      ]);
      if (storage.dialect === "postgres") expect(statements).toHaveLength(2);
      expect([texts(newest), newest.hasMore]).toEqual([["four, edited", "five"], true]);
      expect([texts(older), older.hasMore]).toEqual([["one", "three"], false]);
      expect(texts(all)).toEqual(["one", "three", "four, edited", "five"]);
      // Changes come in the order they were made: b hiding "two" (their sync carries a hidden copy), then the edit.
      expect([texts(synced), synced.messages.map((m) => m.revSeq), synced.lastSeq, synced.hasMore]).toEqual([
        ["one", "three", "five", "(hidden)", "four, edited"],
        [1, 3, 5, 6, 7],
        7,
        false,
      ]);
      expect([texts(unread), unread.lastSeq, unread.hasMore]).toEqual([["(hidden)"], 7, true]);
      expect(await domain.messages.sync(b, conversation.id, 7, 10)).toEqual({ messages: [], lastSeq: 7, hasMore: false });

      // One member's page alone is one statement.
      statements.length = 0;
      expect(texts(await domain.messages.sync(user("a"), conversation.id, 4, 10))).toEqual(["five", "two", "four, edited"]);
      if (storage.dialect === "postgres") expect(statements).toHaveLength(1);

      // Readers who are not members, strangers and unknown conversations: as on the path that loads access first.
      expect(texts(await domain.messages.history(user("reader"), channel.id))).toEqual(["news"]);
      expect(texts(await domain.messages.sync(user("reader"), channel.id, 0))).toEqual(["news"]);
      expect(texts(await domain.messages.history(system, conversation.id, undefined, 1))).toEqual(["five"]);
      const guest: Principal = { ...user("visitor"), roles: ["guest"], kind: "guest" };
      await expect(domain.messages.history(guest, channel.id)).rejects.toMatchObject({ code: "forbidden" });
      await expect(domain.messages.history(user("stranger"), conversation.id)).rejects.toMatchObject({ code: "forbidden" });
      await expect(domain.messages.sync(user("stranger"), conversation.id, 0)).rejects.toMatchObject({ code: "forbidden" });
      await expect(domain.messages.sync(b, "no-such-conversation", 0)).rejects.toMatchObject({ code: "not_found" });
    } finally {
      await storage.destroy();
    }
  });

  it("finds in search what was sent, edited and deleted, whether its text was indexed yet or not", async () => {
    const { storage, domain } = await open();
    try {
      const conv = (await domain.conversations.create(system, { kind: "group", members: ["ann", "ben"] })).conversation;
      const ann = user("ann");
      const send = async (text: string) => (await domain.messages.send(ann, conv.id, { text })).message;
      const found = async (q: string) => (await domain.search.search(user("ben"), { q })).results.map((r) => r.message.text);

      // Edited while its text waits to be indexed, and after (a search indexes what waits).
      const early = await send("alpha draft");
      await domain.messages.edit(ann, conv.id, early.id, "bravo final");
      const late = await send("charlie draft");
      expect(await found("charlie")).toEqual(["charlie draft"]);
      await domain.messages.edit(ann, conv.id, late.id, "delta final");
      expect([await found("alpha"), await found("bravo"), await found("charlie"), await found("delta")]).toEqual([
        [],
        ["bravo final"],
        [],
        ["delta final"],
      ]);

      // Deleted for everyone while waiting, and after.
      const waiting = await send("echo one");
      await domain.messages.delete(ann, conv.id, waiting.id, "everyone");
      const indexed = await send("foxtrot two");
      expect(await found("foxtrot")).toEqual(["foxtrot two"]);
      await domain.messages.delete(ann, conv.id, indexed.id, "everyone");
      expect([await found("echo"), await found("foxtrot")]).toEqual([[], []]);

      if (storage.sqlite) {
        // Rows removed outright (as a cascade would), one indexed and one waiting,
        // leave SQLite's index in step with the table: its own check says so.
        const done = await send("golf indexed");
        expect(await found("golf")).toEqual(["golf indexed"]);
        const fresh = await send("hotel waiting");
        storage.sqlite.prepare("delete from messages where id in (?, ?)").run(done.id, fresh.id);
        storage.sqlite.prepare("insert into messages_fts (messages_fts) values ('integrity-check')").run();
        expect([await found("golf"), await found("hotel"), await found("final")]).toEqual([[], [], ["delta final", "bravo final"]]);
        storage.sqlite.prepare("insert into messages_fts (messages_fts) values ('integrity-check')").run();
      }
    } finally {
      await storage.destroy();
    }
  });

  it("keeps reading and sending after another node adds a column to a table its statements were prepared on", async () => {
    const { storage, domain } = await open();
    try {
      const { conversation } = await domain.conversations.create(system, { kind: "group", members: ["a", "b"] });
      const page = () => domain.messages.history(user("b"), conversation.id);
      for (let i = 0; i < 3; i++) await domain.messages.send(user("a"), conversation.id, { text: `before ${i}` });
      expect((await page()).messages).toHaveLength(3);
      // What a newer node's migration would do while this one runs.
      await sql`alter table messages add column added_later text`.execute(storage.db);
      await sql`alter table conversations add column added_later text`.execute(storage.db);
      for (let i = 0; i < 3; i++) await domain.messages.send(user("a"), conversation.id, { text: `after ${i}` });
      const together = await Promise.all([1, 2, 3].map((i) => domain.messages.send(user("b"), conversation.id, { text: `together ${i}` })));
      expect(together.map((s) => s.message.seq).sort()).toEqual([7, 8, 9]);
      for (let i = 0; i < 3; i++) expect((await page()).messages.map((m) => m.text)).toHaveLength(9);
    } finally {
      await storage.destroy();
    }
  });

  it("vacuums its hot tables itself when the server's autovacuum is off (PostgreSQL)", async () => {
    const { storage, domain } = await open();
    let upkeep: Upkeep | null = null;
    try {
      upkeep = await startPostgresUpkeep(storage, (err) => expect.fail(String(err)), { vacuumMs: 100 });
      if (storage.dialect === "sqlite") {
        expect(upkeep.vacuuming).toBe(false);
        return;
      }
      const { rows } = await sql<{ autovacuum: string }>`show autovacuum`.execute(storage.db);
      expect(upkeep.vacuuming).toBe(rows[0]!.autovacuum === "off");
      // Where autovacuum runs, the server keeps the tables; there is nothing for Parley to do.
      if (!upkeep.vacuuming) return;
      const { conversation } = await domain.conversations.create(system, { kind: "group", members: ["a", "b"] });
      for (let i = 0; i < 20; i++) await domain.messages.send(user("a"), conversation.id, { text: `m${i}` });
      const vacuumed = async () =>
        (
          await sql<{ last_vacuum: string | null }>`select last_vacuum from pg_stat_user_tables where relname = 'conversations'`.execute(storage.db)
        ).rows[0]?.last_vacuum ?? null;
      await expect.poll(vacuumed, { timeout: 5_000 }).not.toBeNull();
      await upkeep.stop();
      // Sends go on as before while it runs and after it stopped.
      expect((await domain.messages.send(user("b"), conversation.id, { text: "after" })).message.seq).toBe(21);
    } finally {
      await upkeep?.stop();
      await storage.destroy();
    }
  });

  it("sends new words to the text index's pending list and merges it in the background (PostgreSQL)", async () => {
    const opened = await openPostgres();
    if (!opened) return;
    const { storage, domain } = opened;
    const upkeep = await startPostgresUpkeep(storage, (err) => expect.fail(String(err)), { textIndexMergeMs: 60_000_000 });
    let merging: Upkeep | null = null;
    /** Merges what is pending now; the number of list pages it moved into the index. */
    const mergePending = async () =>
      Number((await sql<{ pages: string }>`select gin_clean_pending_list('messages_text_search'::regclass) as pages`.execute(storage.db)).rows[0]!.pages);
    try {
      const options = await sql<{ options: string[] | null }>`select reloptions as options from pg_class where relname = 'messages_text_search'`.execute(
        storage.db,
      );
      expect(options.rows[0]?.options).toContain("fastupdate=on");
      const { conversation } = await domain.conversations.create(system, { kind: "group", members: ["a", "b"] });
      for (let i = 0; i < 12; i++) await domain.messages.send(user("a"), conversation.id, { text: `platypus number ${i} at the station` });
      // Found while still pending: a search reads the list as well as the index.
      const found = await domain.search.search(user("b"), { q: "platypus station" });
      expect(found.results).toHaveLength(12);
      // The words were waiting in the list, not written into the index by each insert.
      expect(await mergePending()).toBeGreaterThan(0);
      await upkeep.stop();

      // With the merge every 100 ms, nothing is left pending for long: a merge run now finds no page to move.
      merging = await startPostgresUpkeep(storage, (err) => expect.fail(String(err)), { textIndexMergeMs: 100 });
      for (let i = 0; i < 12; i++) await domain.messages.send(user("b"), conversation.id, { text: `quokka number ${i}` });
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      expect(await mergePending()).toBe(0);
      await merging.stop();
      expect((await domain.search.search(user("a"), { q: "quokka" })).results).toHaveLength(12);
    } finally {
      await upkeep.stop();
      await merging?.stop();
      await storage.destroy();
    }
  });

  it("skips its merge of the text index while another session holds the index, without an error or a wait (PostgreSQL)", async () => {
    const opened = await openPostgres();
    if (!opened) return;
    const { storage } = opened;
    let upkeep: Upkeep | null = null;
    let release = () => {};
    try {
      // Another session holds a lock that every merge must wait for, as another
      // node's merge of a long pending list does (gin_clean_pending_list under a
      // lock timeout then fails with 55P03 just the same), but for as long as
      // this test says, however fast the machine.
      let holding = () => {};
      const held = new Promise<void>((resolve) => (holding = resolve));
      const released = new Promise<void>((resolve) => (release = resolve));
      const holder = storage.batchDb.transaction().execute(async (trx) => {
        await sql`alter index messages_text_search set (fastupdate = on)`.execute(trx);
        holding();
        await released;
      });
      await held;
      const errors: unknown[] = [];
      upkeep = await startPostgresUpkeep(storage, (err) => errors.push(err), { textIndexMergeMs: 50 });
      // This node's merge is seen waiting for the lock at least once.
      let sawWaiting = false;
      const until = performance.now() + 400;
      while (performance.now() < until) {
        const { rows } = await sql<{ waiting: number }>`
          select count(*)::int as waiting from pg_locks l join pg_stat_activity a on a.pid = l.pid
          where not l.granted and l.relation = 'messages_text_search'::regclass and a.query like '%gin_clean_pending_list%'`.execute(storage.db);
        if (rows[0]!.waiting > 0) sawWaiting = true;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(sawWaiting).toBe(true);
      // Its turns came and went (each gave up after the lock timeout): stopping it
      // does not wait for the lock (a merge that waited would wait for as long as
      // the lock is held: here until the end of the test), and nothing was reported.
      const stopped = await Promise.race([upkeep.stop().then(() => true), new Promise((resolve) => setTimeout(resolve, 400, false))]);
      expect(stopped).toBe(true);
      expect(errors).toEqual([]);
      release();
      await holder;
    } finally {
      release();
      await upkeep?.stop();
      await storage.destroy();
    }
  }, 60_000);

  it("tells once that a database role that does not own the text index cannot merge it, and keeps sending (PostgreSQL)", async () => {
    const opened = await openPostgres();
    if (!opened) return;
    const { storage: owner, domain } = opened;
    // A role that may read and write Parley's tables but owns none of them, as when another role ran the migrations.
    const role = `parley_limited_${Date.now().toString(36)}`;
    const database = (await sql<{ name: string }>`select current_database() as name`.execute(owner.db)).rows[0]!.name;
    await sql`create role ${sql.id(role)} login`.execute(owner.db);
    await sql`grant all on all tables in schema public to ${sql.id(role)}`.execute(owner.db);
    const limitedUrl = new URL(process.env.PARLEY_TEST_DATABASE_URL!);
    limitedUrl.username = role;
    limitedUrl.pathname = `/${database}`;
    const limited = openStorage(limitedUrl.toString());
    const errors: unknown[] = [];
    const upkeep = await startPostgresUpkeep(limited, (err) => errors.push(err), { textIndexMergeMs: 50 });
    try {
      const { conversation } = await domain.conversations.create(system, { kind: "group", members: ["a", "b"] });
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect(errors).toHaveLength(1);
      expect(String(errors[0])).toContain("may not merge the text index's pending list");
      expect(((errors[0] as Error).cause as { code?: string }).code).toBe("42501");
      // The refusal changes nothing for sends or searches.
      await domain.messages.send(user("a"), conversation.id, { text: "wombat at the gate" });
      expect((await domain.search.search(user("b"), { q: "wombat" })).results).toHaveLength(1);
    } finally {
      await upkeep.stop();
      await limited.destroy();
      await sql`drop owned by ${sql.id(role)}`.execute(owner.db);
      await sql`drop role ${sql.id(role)}`.execute(owner.db);
      await owner.destroy();
    }
  });

  it("pages a sync through every change in the order it was made, whatever mix of sends, edits, reactions and deletes came before", async () => {
    const { storage, domain } = await open({ rateMessages: { perSecond: 1000, burst: 1000 } });
    try {
      const deletedAlready = (err: unknown) => expect(err).toMatchObject({ code: "conflict", message: "This message was deleted" });
      // Untouched messages interleave with touched ones in rev_seq order.
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.tuple(fc.constantFrom("send", "edit", "react", "delete", "hide"), fc.nat()), { minLength: 5, maxLength: 16 }),
          fc.integer({ min: 1, max: 6 }),
          async (steps, limit) => {
            const { conversation } = await domain.conversations.create(system, { kind: "group", members: ["a", "b"] });
            for (const [step, pick] of steps) {
              const ids = (await storage.db.selectFrom("messages").select("id").where("conversation_id", "=", conversation.id).orderBy("seq").execute()).map((r) => r.id);
              const id = ids[pick % Math.max(ids.length, 1)];
              if (step === "send" || !id) await domain.messages.send(user("a"), conversation.id, { text: `m${ids.length + 1}` });
              // Editing or reacting to a deleted message is refused, and changes nothing.
              else if (step === "edit") await domain.messages.edit(user("a"), conversation.id, id, `edited ${pick}`).catch(deletedAlready);
              else if (step === "react") await domain.messages.react(user("b"), conversation.id, id, "👍", pick % 2 === 0).catch(deletedAlready);
              else if (step === "delete") await domain.messages.delete(user("a"), conversation.id, id, "everyone");
              else await domain.messages.delete(user("b"), conversation.id, id, "me");
            }
            const all = await storage.db.selectFrom("messages").select(["id", "rev_seq"]).where("conversation_id", "=", conversation.id).execute();
            // From every cursor, as a member (b) and as a reader who is not one (system): pages of `limit` until hasMore is false.
            for (const reader of [user("b"), system]) {
              for (const from of [0, ...all.map((m) => Number(m.rev_seq))]) {
                const expected = all.filter((m) => Number(m.rev_seq) > from).sort((x, y) => Number(x.rev_seq) - Number(y.rev_seq)).map((m) => m.id);
                const got: string[] = [];
                let after = from;
                for (let pages = 0; pages <= expected.length; pages++) {
                  const page = await domain.messages.sync(reader, conversation.id, after, limit);
                  got.push(...page.messages.map((m) => m.id));
                  if (!page.hasMore) break;
                  after = page.messages[page.messages.length - 1]!.revSeq;
                }
                expect(got, `${reader.id} from ${from}, pages of ${limit}`).toEqual(expected);
              }
            }
          },
        ),
        { numRuns: 8, seed: 7 },
      );
    } finally {
      await storage.destroy();
    }
  });

  it("walks history and sync on indexes, not table scans: the queries the code sends", async () => {
    const { storage } = await open();
    try {
      // Plans of the compiled queries the message service runs (hidden-message filter included).
      const queries = [
        ["history, newest page", historyPageQuery(storage.db, "c", "alice", undefined, 50), ["messages_conversation_seq"]],
        ["history, older page", historyPageQuery(storage.db, "c", "alice", 10_000, 50), ["messages_conversation_seq"]],
        // Untouched messages by seq, edited ones by the partial index of changed messages.
        ["sync", syncPageQuery(storage.db, "c", "alice", 10, 10_000, 50), ["messages_conversation_seq", "messages_conversation_changed"]],
      ] as const;
      for (const [what, query, indexes] of queries) {
        const { sql: text, parameters } = query.compile();
        const explained = sql.raw(storage.dialect === "sqlite" ? `explain query plan ${text}` : `explain ${text}`);
        const run = async (db: typeof storage.db | Transaction<Database>) => {
          // Parameters go in as they would at run time ($1… on PostgreSQL, ? on SQLite).
          const compiled = { ...explained.compile(db), parameters };
          const result = await db.executeQuery<Record<string, string>>(compiled);
          return result.rows.map((r) => Object.values(r).join(" ")).join("\n");
        };
        if (storage.dialect === "sqlite") {
          const plan = await run(storage.db);
          for (const index of indexes) expect(plan, what).toContain(index);
          expect(plan, what).not.toMatch(/SCAN m\b|SCAN messages\b/);
        } else {
          await storage.db.transaction().execute(async (trx) => {
            await sql`set local enable_seqscan = off`.execute(trx);
            const plan = await run(trx);
            for (const index of indexes) expect(plan, what).toContain(index);
            expect(plan, what).not.toContain("Seq Scan on messages");
          });
        }
      }
    } finally {
      await storage.destroy();
    }
  });
});

describe("message ids", () => {
  it("are distinct UUIDv7s that ascend, across many draws of random bytes and within one millisecond", () => {
    const before = Date.now();
    const ids = Array.from({ length: 5_000 }, () => newMessageId());
    const after = Date.now();
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) {
      expect(isUuid(id)).toBe(true);
      expect(uuidVersion(id)).toBe(7);
    }
    // Sorted as strings (as the primary-key index sorts them), they are in the order made.
    expect([...ids].sort()).toEqual(ids);
    // They start with the time they were made, in milliseconds.
    const msecs = (id: string) => parseInt(id.replace(/-/g, "").slice(0, 12), 16);
    expect(msecs(ids[0]!)).toBeGreaterThanOrEqual(before);
    expect(msecs(ids.at(-1)!)).toBeLessThanOrEqual(after + 1);
    // The random tail differs between ids made in the same millisecond.
    expect(new Set(ids.map((id) => id.slice(-12))).size).toBe(ids.length);
  });
});

describe("timestamps from PostgreSQL", () => {
  it("rearranges PostgreSQL's UTC text into the ISO string Date would make of it", () => {
    const pgText = fc
      .record({
        at: fc.date({ min: new Date("1000-01-01T00:00:00Z"), max: new Date("9999-12-31T23:59:59Z"), noInvalidDate: true }),
        micros: fc.integer({ min: 0, max: 999_999 }),
        digits: fc.integer({ min: 0, max: 6 }),
      })
      .map(({ at, micros, digits }) => {
        const whole = at.toISOString().slice(0, 19).replace("T", " ");
        // PostgreSQL leaves trailing zeros of the fraction out, and the point with them.
        const fraction = String(micros).padStart(6, "0").slice(0, digits).replace(/0+$/, "");
        return `${whole}${fraction ? `.${fraction}` : ""}+00`;
      });
    fc.assert(fc.property(pgText, (text) => timestamptzToIso(text) === new Date(text).toISOString()));
    // Forms it does not rearrange still come out right.
    expect(timestamptzToIso("2026-12-04 18:07:41.5+01")).toBe("2026-12-04T17:07:41.500Z");
    expect(timestamptzToIso("2026-12-04 17:07:41+00")).toBe("2026-12-04T17:07:41.000Z");
  });

  describe.each(backends().filter((b) => b.name === "postgres"))("read through the pool on $name", (backend) => {
    afterAll(() => backend.cleanup());

    it("never compiles a statement with JIT, on either pool, however high the planner's estimate", async () => {
      const storage = openStorage(await backend.create());
      // A plan JIT compiled ends with a "JIT:" section; at jit_above_cost 0
      // every statement would be (the server's default session compiles this one).
      const planOf = async (db: Kysely<Database>) =>
        db.transaction().execute(async (trx) => {
          await sql`set local jit_above_cost = 0`.execute(trx);
          const { rows } = await sql<{ "QUERY PLAN": string }>`explain (analyze) select sum(n) from generate_series(1, 1000) n`.execute(trx);
          return rows.map((r) => r["QUERY PLAN"]).join("\n");
        });
      try {
        for (const db of [storage.db, storage.batchDb]) {
          const { rows } = await sql<{ jit: string }>`select current_setting('jit') as jit`.execute(db);
          expect(rows[0]!.jit).toBe("off");
          expect(await planOf(db)).not.toMatch(/^JIT:/m);
        }
      } finally {
        await storage.destroy();
      }
    });

    it("stores a group's sends looking messages up by key, with the plan the batch pool makes while the table is empty", async () => {
      // The batch pool plans each statement once per connection, with the
      // statistics of that moment, and keeps the plan. A retry check planned
      // as a hash of every stored message would cost more with every message.
      const url = await backend.create();
      const storage = openStorage(url);
      const client = new pg.Client({ connectionString: url, options: "-c plan_cache_mode=force_generic_plan -c jit=off" });
      try {
        await migrateToLatest(storage);
        const now = new Date().toISOString();
        await sql`insert into conversations (id, kind, metadata, status, created_at, activity_at) values ('c', 'group', '{}', 'open', ${now}, ${now})`.execute(storage.db);
        await sql`insert into members (conversation_id, user_id, role, joined_at) values ('c', 'a', 'member', ${now}), ('c', 'b', 'member', ${now})`.execute(storage.db);
        const send = (clientId: string) => ({
          input: { conversationId: "c", senderId: "a", senderName: "A", type: "text" as const, text: "hi", clientId },
          withMembers: true,
          asMember: true,
        });
        const { sql: text, parameters } = appendStatement([send("k1"), send("k2")], [newMessageId(), newMessageId()], now).compile(storage.batchDb);
        // The plan each execution used, as the server logs it, sent to this client.
        await client.connect();
        const plans: string[] = [];
        client.on("notice", (notice) => plans.push(notice.message ?? ""));
        await client.query("load 'auto_explain'");
        await client.query("set auto_explain.log_min_duration = 0");
        await client.query("set auto_explain.log_level = 'notice'");
        const stored = await client.query({ name: "append", text, values: parameters as unknown[] });
        expect(stored.rows.map((r: { seq: string | number; member_ids: string[] }) => [Number(r.seq), [...r.member_ids].sort()])).toEqual([
          [1, ["a", "b"]],
          [2, ["a", "b"]],
        ]);
        // The same clientId again is a retry: nothing stored, found by key.
        const retry = appendStatement([send("k1")], [newMessageId()], now).compile(storage.batchDb);
        const retried = await client.query({ name: "append", text: retry.sql, values: retry.parameters as unknown[] });
        expect(retried.rows).toEqual([]);
        expect(plans).toHaveLength(2);
        for (const plan of plans) {
          expect(plan).toContain("Insert on messages");
          expect(plan).toContain("messages_sender_client");
          expect(plan).not.toMatch(/Seq Scan on messages\b|hashed SubPlan/);
        }
      } finally {
        await client.end();
        await storage.destroy();
      }
    });

    it("reads timestamptz values back as ISO strings truncated to the millisecond, whatever the server's time zone", async () => {
      const storage = openStorage(await backend.create());
      try {
        const { rows } = await sql<{ tz: string; a: string; b: string; c: string; d: string }>`
          select current_setting('TimeZone') as tz,
            '2026-12-04T17:07:41.965823Z'::timestamptz as a,
            '2026-12-04T17:07:41Z'::timestamptz as b,
            '2026-12-04T19:07:41.5+02:00'::timestamptz as c,
            '1999-12-31T23:59:59.999999Z'::timestamptz as d`.execute(storage.db);
        expect(rows[0]).toEqual({
          tz: "UTC",
          a: "2026-12-04T17:07:41.965Z",
          b: "2026-12-04T17:07:41.000Z",
          c: "2026-12-04T17:07:41.500Z",
          d: "1999-12-31T23:59:59.999Z",
        });
      } finally {
        await storage.destroy();
      }
    });
  });
});
