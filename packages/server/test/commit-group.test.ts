import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { sql, type Kysely, type Transaction } from "kysely";
import { afterAll, describe, expect, it } from "vitest";
import { CommitGroup } from "../src/storage/commit-group.js";
import { openStorage } from "../src/storage/database.js";
import type { Database } from "../src/storage/schema.js";
import { backends } from "./support/backends.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("group commit on SQLite", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "parley-group-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("commits a quiet server's write at once and gathers the writes that follow it into one transaction", async () => {
    const storage = openStorage(`sqlite:${path.join(dir, "group.sqlite")}`);
    try {
      await sql`create table notes (n integer)`.execute(storage.db);
      const group = new CommitGroup(storage.db, "sqlite", { intervalMs: 300 });
      const transactions: Array<Kysely<Database> | Transaction<Database>> = [];
      const write = (n: number) =>
        group.run(async (trx) => {
          transactions.push(trx);
          await sql`insert into notes values (${n})`.execute(trx);
          return n;
        });

      // Nothing committed lately: the first write does not wait for the interval.
      const first = write(0);
      expect(await Promise.race([first, sleep(150).then(() => "waited")])).toBe(0);

      // Writes arriving one by one within the interval share the next transaction.
      const later: Array<Promise<number>> = [];
      for (let n = 1; n <= 5; n++) {
        later.push(write(n));
        await sleep(10);
      }
      expect(await Promise.all(later)).toEqual([1, 2, 3, 4, 5]);
      expect(new Set(transactions.slice(1)).size).toBe(1);
      expect(transactions[1]).not.toBe(transactions[0]);
      const { rows } = await sql<{ n: number }>`select n from notes order by n`.execute(storage.db);
      expect(rows.map((r) => r.n)).toEqual([0, 1, 2, 3, 4, 5]);
    } finally {
      await storage.destroy();
    }
  });
});

describe.each(backends().filter((b) => b.name === "postgres"))("one-statement groups on $name", (backend) => {
  afterAll(() => backend.cleanup());

  it("commits each unit's statement by itself, runs a unit the database refused again alone, and never runs twice a unit whose statement stood", async () => {
    const storage = openStorage(await backend.create());
    try {
      await sql`create table notes (n integer primary key)`.execute(storage.db);
      const group = new CommitGroup(storage.batchDb, "postgres");
      const refusedOnce = new Set<number>();
      const inTransaction: boolean[] = [];
      const note = (n: number, fail?: "database" | "after") =>
        group.run(
          async (db) => {
            inTransaction.push(db.isTransaction);
            // The first try of this unit is refused by the database (as a batched
            // statement failing for another unit's row would be); alone it passes.
            if (fail === "database" && !refusedOnce.has(n)) {
              refusedOnce.add(n);
              await sql`select 1 / 0`.execute(db);
            }
            await sql`insert into notes values (${n})`.execute(db);
            if (fail === "after") throw new Error(`failed after storing ${n}`);
            return n;
          },
          { oneStatement: true },
        );

      const results = await Promise.allSettled([note(1), note(2, "database"), note(3, "after"), note(4)]);
      expect(results.map((r) => (r.status === "fulfilled" ? r.value : (r.reason as Error).message))).toEqual([
        1,
        2,
        "failed after storing 3",
        4,
      ]);
      // The group ran outside a transaction; the refused unit's second run was in one of its own.
      expect(inTransaction).toEqual([false, false, false, false, true]);
      const { rows } = await sql<{ n: number }>`select n from notes order by n`.execute(storage.db);
      // 3's statement stood and was not run again (a second insert would have failed on the key).
      expect(rows.map((r) => r.n)).toEqual([1, 2, 3, 4]);
    } finally {
      await storage.destroy();
    }
  });
});
