import { afterAll, describe, expect, it } from "vitest";
import { openStorage } from "../src/storage/database.js";
import { migrateToLatest } from "../src/storage/migrate.js";
import { indexPendingText } from "../src/storage/sqlite-text-index.js";
import { backends } from "./support/backends.js";

describe("search index on SQLite", () => {
  // SQLite is always the first backend.
  const [sqliteBackend] = backends();
  afterAll(() => sqliteBackend!.cleanup());

  it("indexes a backlog loaded through SQL a batch at a time, the event loop running between batches, until every message is found", async () => {
    const storage = openStorage(await sqliteBackend!.create());
    try {
      await migrateToLatest(storage);
      const sqlite = storage.sqlite!;
      const now = new Date().toISOString();
      sqlite
        .prepare("insert into conversations (id, kind, metadata, status, created_at, activity_at, last_seq) values ('c', 'group', '{}', 'open', ?, ?, 2500)")
        .run(now, now);
      const insert = sqlite.prepare(
        `insert into messages (id, conversation_id, seq, rev_seq, sender_id, sender_name, type, text, attachments, metadata, created_at, reactions)
         values (?, 'c', ?, ?, 'u', 'U', 'text', ?, '[]', '{}', ?, '{}')`,
      );
      sqlite.transaction(() => {
        for (let seq = 1; seq <= 2500; seq++) insert.run(`m${seq}`, seq, seq, `note ${seq === 1 ? "aardvark" : seq === 2500 ? "zebra" : "plain"}`, now);
      })();
      const pending = () => (sqlite.prepare("select count(*) as n from messages_fts_pending").get() as { n: number }).n;
      const found = (word: string) =>
        (sqlite.prepare("select m.id from messages_fts f join messages m on m.rowid = f.rowid where messages_fts match ?").all(word) as Array<{ id: string }>).map(
          (r) => r.id,
        );
      expect(pending()).toBe(2500);

      // Work that was ready before the indexing started runs after its first batch, not after all of it.
      const seenBetween: number[] = [];
      setImmediate(() => seenBetween.push(pending()));
      await indexPendingText(storage, 1000);
      expect(seenBetween).toEqual([1500]);

      expect(pending()).toBe(0);
      expect(found("aardvark")).toEqual(["m1"]);
      expect(found("zebra")).toEqual(["m2500"]);
      expect(found("plain")).toHaveLength(2498);
      // Indexing commits without a flush of its own; the connection is back to flushing every other commit.
      expect(sqlite.pragma("synchronous", { simple: true })).toBe(2);
    } finally {
      await storage.destroy();
    }
  });
});
