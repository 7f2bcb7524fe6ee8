import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import SqliteDatabase from "better-sqlite3";
import Fastify from "fastify";
import { serializerCompiler, validatorCompiler } from "fastify-type-provider-zod";
import { sql, type Kysely, type Transaction } from "kysely";
import { afterAll, describe, expect, it } from "vitest";
import type { Conversation } from "@parley/protocol";
import { DomainEvents, type DomainEvent } from "../src/domain/domain-events.js";
import { toParleyError } from "../src/edge/to-parley-error.js";
import type { HttpContext } from "../src/http/http-context.js";
import { registerHealthRoutes } from "../src/http/routes/system-routes.js";
import { UnitOfWork } from "../src/domain/unit-of-work.js";
import { CommitGroup } from "../src/storage/commit-group.js";
import { openStorage, type Storage } from "../src/storage/database.js";
import type { Database } from "../src/storage/schema.js";
import { SqliteWal } from "../src/storage/sqlite-wal.js";
import { isUnavailable } from "../src/storage/storage-errors.js";
import { backends } from "./support/backends.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Writes `n` into `notes` through `group`, noting the transaction (or connection) each write ran on. */
function noteWriter(group: CommitGroup) {
  const handles: Array<Kysely<Database> | Transaction<Database>> = [];
  const write = (n: number) =>
    group.run(async (db) => {
      handles.push(db);
      await sql`insert into notes values (${n})`.execute(db);
      return n;
    });
  return { write, handles };
}

/** `GET /ready` of Parley's own route, for `storage` (nothing else configured). */
async function readiness(storage: Storage): Promise<{ status: number; body: unknown }> {
  const app = Fastify();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerHealthRoutes(app as unknown as Parameters<typeof registerHealthRoutes>[0], { storage, readiness: {}, version: "test" } as unknown as HttpContext);
  try {
    const res = await app.inject({ method: "GET", url: "/ready" });
    return { status: res.statusCode, body: res.json() };
  } finally {
    await app.close();
  }
}

/** A flush of the WAL that waits until the test lets it go, counting the flushes. */
function heldFlush() {
  const state = { started: 0, release: () => {} };
  let gate = new Promise<void>((resolve) => (state.release = resolve));
  return {
    state,
    sync: async (handle: { datasync(): Promise<void> }) => {
      state.started += 1;
      await gate;
      await handle.datasync();
    },
    reopen: () => (gate = new Promise<void>((resolve) => (state.release = resolve))),
  };
}

describe("group commit on SQLite", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "parley-group-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("commits a quiet server's write at once and gathers the writes that follow it into one transaction", async () => {
    const storage = openStorage(`sqlite:${path.join(dir, "group.sqlite")}`);
    try {
      await sql`create table notes (n integer)`.execute(storage.db);
      const { write, handles: transactions } = noteWriter(new CommitGroup(storage.db, "sqlite", { intervalMs: 300 }));

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

describe("group commit on SQLite, flushed off the event loop", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "parley-wal-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const settled = async (promise: Promise<unknown>) => Promise.race([promise.then(() => "settled"), sleep(30).then(() => "pending")]);

  it("answers a group only once the flush after its commit has finished, while the next group commits meanwhile", async () => {
    const file = path.join(dir, "held.sqlite");
    const storage = openStorage(`sqlite:${file}`);
    let wal: SqliteWal | undefined;
    try {
      const sqlite = storage.sqlite!;
      await sql`create table notes (n integer)`.execute(storage.db);
      const flush = heldFlush();
      wal = new SqliteWal(sqlite, file, { sync: flush.sync });
      const { write, handles } = noteWriter(new CommitGroup(storage.db, "sqlite", { intervalMs: 0, wal }));
      const notes = () => (sqlite.prepare("select n from notes order by n").all() as Array<{ n: number }>).map((r) => r.n);

      const first = [write(1), write(2)];
      await sleep(20);
      // Committed, in one transaction, and the connection is back to flushing its other commits itself...
      expect(notes()).toEqual([1, 2]);
      expect(handles[0]).toBe(handles[1]);
      expect(sqlite.pragma("synchronous", { simple: true })).toBe(2);
      expect(sqlite.inTransaction).toBe(false);
      // ...but not answered while its flush is under way.
      expect(flush.state.started).toBe(1);
      expect(await settled(Promise.all(first))).toBe("pending");

      // The next group runs and commits meanwhile; its flush waits for the one under way.
      const second = write(3);
      await sleep(20);
      expect(notes()).toEqual([1, 2, 3]);
      expect(flush.state.started).toBe(1);

      const answered: number[] = [];
      for (const p of [...first, second]) void p.then((n) => answered.push(n));
      const release = flush.state.release;
      flush.reopen();
      release();
      expect(await Promise.all(first)).toEqual([1, 2]);
      // The second flush started after the first ended, for the group committed meanwhile.
      await sleep(20);
      expect(flush.state.started).toBe(2);
      expect(await settled(second)).toBe("pending");
      flush.state.release();
      expect(await second).toBe(3);
      expect(answered).toEqual([1, 2, 3]);
    } finally {
      await wal?.close();
      await storage.destroy();
    }
  });

  it("answers every write of a group whose flush failed, and every write after it, with an unavailable error", async () => {
    const file = path.join(dir, "failing.sqlite");
    const storage = openStorage(`sqlite:${file}`);
    let wal: SqliteWal | undefined;
    try {
      await sql`create table notes (n integer)`.execute(storage.db);
      // The first flush fails; the disk would report the next ones as fine.
      let flushes = 0;
      wal = new SqliteWal(storage.sqlite!, file, {
        sync: async (handle) => {
          flushes += 1;
          if (flushes === 1) throw Object.assign(new Error("EIO: i/o error, fdatasync"), { code: "EIO" });
          await handle.datasync();
        },
      });
      const { write } = noteWriter(new CommitGroup(storage.db, "sqlite", { intervalMs: 0, wal }));
      const results = await Promise.allSettled([1, 2].map(write));
      expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
      expect(results.every((r) => r.status === "rejected" && isUnavailable(r.reason))).toBe(true);
      expect(storage.sqlite!.pragma("synchronous", { simple: true })).toBe(2);
      // What was written before the failed flush may never reach the disk, so
      // nothing written after it is acknowledged either.
      const later = await Promise.allSettled([write(3)]);
      expect(later[0]!.status).toBe("rejected");
      expect(isUnavailable((later[0] as PromiseRejectedResult).reason)).toBe(true);
      expect(flushes).toBe(1);
      // What an operator sees: the server is not ready, and the error is one to log.
      expect(wal.failed).toMatchObject({ code: "EIO" });
      expect(await readiness(storage)).toMatchObject({ status: 200 });
      expect(await readiness({ ...storage, sqliteWal: wal })).toEqual({
        status: 503,
        body: { error: { code: "unavailable", message: "Not ready: database down", details: { database: "down" } } },
      });
      expect(toParleyError((later[0] as PromiseRejectedResult).reason)).toMatchObject({ error: { code: "unavailable" }, unexpected: true });
    } finally {
      await wal?.close();
      await storage.destroy();
    }
  });
});

describe("a database file reached through a symbolic link", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "parley-link-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("flushes the log SQLite keeps beside the file the link leads to", async () => {
    mkdirSync(path.join(dir, "real"));
    const real = path.join(dir, "real", "parley.db");
    new SqliteDatabase(real).close();
    symlinkSync(real, path.join(dir, "parley.db"));
    const storage = openStorage(`sqlite:${path.join(dir, "parley.db")}`);
    try {
      await sql`create table notes (n integer)`.execute(storage.db);
      const group = new CommitGroup(storage.db, "sqlite", { intervalMs: 0, wal: storage.sqliteWal });
      expect(await group.run(async (db) => (await sql`insert into notes values (1)`.execute(db), 1))).toBe(1);
      expect(existsSync(path.join(dir, "real", "parley.db-wal"))).toBe(true);
    } finally {
      await storage.destroy();
    }
  });
});

describe("events of a transaction SQLite flushed itself, beside groups flushed off the loop", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "parley-order-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("announces a later write after the group committed before it, whose flush was still under way", async () => {
    const file = path.join(dir, "order.sqlite");
    const opened = openStorage(`sqlite:${file}`);
    const flush = heldFlush();
    const wal = new SqliteWal(opened.sqlite!, file, { sync: flush.sync });
    const storage: Storage = { ...opened, sqliteWal: wal };
    try {
      await sql`create table notes (n integer)`.execute(storage.db);
      const events = new DomainEvents();
      const heard: string[] = [];
      events.subscribe((event) => heard.push(event.type === "conversation.updated" ? String(event.conversation.title) : event.type));
      const uow = new UnitOfWork(storage, events, { writes: false, record: async () => {} }, new CommitGroup(storage.db, "sqlite", { intervalMs: 0, wal }));
      const announce = (title: string): DomainEvent => ({
        type: "conversation.updated",
        conversation: { title } as Conversation,
        audience: { userIds: [], watchers: false, operators: false, channelMembers: false },
      });

      // A grouped write (a send) commits; its flush is held.
      const send = uow.runGrouped(async (db, emit) => {
        await sql`insert into notes values (1)`.execute(db);
        emit(announce("first"));
      });
      await sleep(20);
      // A write of its own (an edit, a member leaving) commits with SQLite's own flush meanwhile.
      const edit = uow.run(async (trx, emit) => {
        await sql`insert into notes values (2)`.execute(trx);
        emit(announce("second"));
      });
      await sleep(20);
      expect(heard).toEqual([]);
      flush.state.release();
      await Promise.all([send, edit]);
      expect(heard).toEqual(["first", "second"]);
    } finally {
      flush.state.release();
      await wal.close();
      await opened.destroy();
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
