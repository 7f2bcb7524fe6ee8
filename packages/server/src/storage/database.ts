import { createHash } from "node:crypto";
import { mkdirSync } from "node:fs";
import path from "node:path";
import SqliteDatabase from "better-sqlite3";
import { Kysely, PostgresDialect, SqliteDialect, type PostgresPool, type PostgresPoolClient, type SqliteDialectConfig } from "kysely";
import pg from "pg";
import type { Database } from "./schema.js";
import { SERVING_AUTOCHECKPOINT_PAGES, startSqliteCheckpointer } from "./sqlite-checkpointer.js";

/** Which database engine a {@link Storage} runs on. */
export type DialectName = "sqlite" | "postgres";

/** An open database: the Kysely instance and the engine behind it. */
export interface Storage {
  readonly db: Kysely<Database>;
  readonly dialect: DialectName;
  /** Closes every connection. */
  destroy(): Promise<void>;
}

const INT8_OID = 20;
const TIMESTAMPTZ_OID = 1184;

/** pg type parsers that make PostgreSQL rows look like SQLite ones: numbers and ISO strings. */
const pgTypes = {
  getTypeParser(oid: number, format?: "text" | "binary") {
    if (oid === INT8_OID) return (value: string) => Number(value);
    if (oid === TIMESTAMPTZ_OID) return (value: string) => new Date(value).toISOString();
    return pg.types.getTypeParser(oid, format);
  },
} as pg.CustomTypesConfig;

export interface OpenStorageOptions {
  /** Most PostgreSQL connections in the pool. @default 10 */
  poolSize?: number;
}

/** Distinct SQL texts kept prepared; lists of `in (?, …)` of every length make the set open-ended. */
const STATEMENT_CACHE_SIZE = 500;

/**
 * Kysely prepares every query anew, and on SQLite preparing costs about as
 * much as running a small query; a sender's handful of statements repeat
 * with every message, so prepared statements are kept by their SQL text.
 * Parley never streams rows, so a cached statement is never busy when it is
 * used again.
 */
function withStatementCache(sqlite: SqliteDatabase.Database): SqliteDialectConfig["database"] {
  const cache = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(sql: string) {
      let statement = cache.get(sql);
      if (!statement) {
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.clear();
        statement = sqlite.prepare(sql);
        cache.set(sql, statement);
      }
      return statement;
    },
  };
}

/** Most statements one PostgreSQL connection keeps prepared; later new ones run unnamed. */
const NAMED_STATEMENTS_PER_CONNECTION = 200;

/**
 * Kysely sends every query unnamed, so PostgreSQL parses and plans it anew
 * each time; for the short statements of a send, planning costs about as
 * much as running. Queries with parameters are sent as named prepared
 * statements instead (named by a hash of their text, so one name never
 * means two texts), which each connection parses once and, after a few
 * runs, plans once. A connection keeps at most
 * {@link NAMED_STATEMENTS_PER_CONNECTION} of them: the set of texts is
 * open-ended (lists of `in ($1, …)` of every length).
 */
function withNamedStatements(pool: pg.Pool): PostgresPool {
  const wrapped = new WeakMap<pg.PoolClient, PostgresPoolClient>();
  const wrap = (client: pg.PoolClient): PostgresPoolClient => {
    const named = new Set<string>();
    return {
      query: ((text: unknown, values?: readonly unknown[]) => {
        if (typeof text !== "string" || !values || values.length === 0) return client.query(text as never, values as never);
        const name = createHash("sha1").update(text).digest("base64url");
        if (!named.has(name)) {
          if (named.size >= NAMED_STATEMENTS_PER_CONNECTION) return client.query(text, values as unknown[]);
          named.add(name);
        }
        return client.query({ name, text, values: values as unknown[] });
      }) as unknown as PostgresPoolClient["query"],
      release: () => client.release(),
    };
  };
  return {
    connect: async () => {
      const client = await pool.connect();
      let facade = wrapped.get(client);
      if (!facade) wrapped.set(client, (facade = wrap(client)));
      return facade;
    },
    end: () => pool.end(),
  };
}

/**
 * Opens `sqlite:<path>` (created with its folder when missing; `sqlite::memory:`
 * for a throwaway database) or `postgres://…`.
 */
export function openStorage(url: string, options: OpenStorageOptions = {}): Storage {
  if (url.startsWith("sqlite:")) {
    const file = url.slice("sqlite:".length);
    if (file !== ":memory:") mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    const sqlite = new SqliteDatabase(file);
    sqlite.pragma("journal_mode = WAL");
    sqlite.pragma("synchronous = FULL");
    sqlite.pragma("foreign_keys = ON");
    sqlite.pragma("busy_timeout = 5000");
    const checkpointer = file === ":memory:" ? null : startSqliteCheckpointer(file);
    if (checkpointer) sqlite.pragma(`wal_autocheckpoint = ${SERVING_AUTOCHECKPOINT_PAGES}`);
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
    return {
      db,
      dialect: "sqlite",
      destroy: async () => {
        await checkpointer?.stop();
        await db.destroy();
      },
    };
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    types: pgTypes,
    connectionTimeoutMillis: 5000,
  });
  // An idle client losing its connection must not crash the process; the
  // next query reports the failure as `unavailable`.
  pool.on("error", () => {});
  // Same for a client that loses its connection while checked out: the query
  // in flight fails (and is answered `unavailable`); the process must not.
  pool.on("connect", (client) => client.on("error", () => {}));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: withNamedStatements(pool) }) });
  return { db, dialect: "postgres", destroy: () => db.destroy() };
}
