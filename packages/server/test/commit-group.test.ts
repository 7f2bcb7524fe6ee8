import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { sql, type Transaction } from "kysely";
import { afterAll, describe, expect, it } from "vitest";
import { CommitGroup } from "../src/storage/commit-group.js";
import { openStorage } from "../src/storage/database.js";
import type { Database } from "../src/storage/schema.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("group commit on SQLite", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "parley-group-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("commits a quiet server's write at once and gathers the writes that follow it into one transaction", async () => {
    const storage = openStorage(`sqlite:${path.join(dir, "group.sqlite")}`);
    try {
      await sql`create table notes (n integer)`.execute(storage.db);
      const group = new CommitGroup(storage.db, "sqlite", { intervalMs: 300 });
      const transactions: Array<Transaction<Database>> = [];
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
