import { createHash } from "node:crypto";
import { mkdirSync, realpathSync } from "node:fs";
import path from "node:path";
import SqliteDatabase from "better-sqlite3";
import { Kysely, PostgresDialect, SqliteDialect, type PostgresPool, type PostgresPoolClient, type SqliteDialectConfig } from "kysely";
import pg from "pg";
import type { Database } from "./schema.js";
import { SERVING_AUTOCHECKPOINT_PAGES, startSqliteCheckpointer } from "./sqlite-checkpointer.js";
import { preparedStatement, STATEMENT_CACHE_SIZE } from "./sqlite-statements.js";
import { SqliteWal } from "./sqlite-wal.js";

export { preparedStatement } from "./sqlite-statements.js";

/** Which database engine a {@link Storage} runs on. */
export type DialectName = "sqlite" | "postgres";

/** An open database: the Kysely instance and the engine behind it. */
export interface Storage {
  readonly db: Kysely<Database>;
  /**
   * Where batched statements run: the group commit of sends, and the access
   * checks, session summaries and presence lookups of many sockets at once.
   * On SQLite it is `db`. On PostgreSQL it is a small pool of its own whose
   * connections plan every statement once
   * (`plan_cache_mode = force_generic_plan`): a batch passes its rows as
   * arrays, and PostgreSQL would otherwise plan such a statement anew for
   * each array length it sees, which cost as much as running it. These are
   * key lookups and appends whose best plan does not depend on the values.
   */
  readonly batchDb: Kysely<Database>;
  readonly dialect: DialectName;
  /**
   * On SQLite, the connection `db` runs on, for the statements of the hot
   * paths (a send, an access check): run directly, they cost a fraction of
   * what Kysely adds around a query (building, compiling, the driver's lock
   * and its promises), and they join whatever transaction is open on the
   * connection. `null` on PostgreSQL.
   */
  readonly sqlite: SqliteDatabase.Database | null;
  /**
   * On SQLite with a file, commits whose flush to disk runs off the event
   * loop (see {@link SqliteWal}): the group commit's. `null` for an
   * in-memory database and on PostgreSQL.
   */
  readonly sqliteWal: SqliteWal | null;
  /** Closes every connection. */
  destroy(): Promise<void>;
}

const INT8_OID = 20;
const TIMESTAMPTZ_OID = 1184;

/** `2026-12-04 17:07:41.965123+00`: date, time and the fraction (0 to 6 digits). */
const UTC_TIMESTAMPTZ = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?\+00$/;

/**
 * A `timestamptz` as PostgreSQL writes it in UTC (`2026-12-04 17:07:41.965123+00`,
 * the fraction optional) to the ISO string `Date#toISOString` makes of it
 * (`2026-12-04T17:07:41.965Z`, milliseconds truncated), by rearranging the
 * text: rows carry several timestamps and parsing each into a Date cost a
 * few percent of a busy server. Any other form goes through Date.
 */
export function timestamptzToIso(value: string): string {
  const utc = UTC_TIMESTAMPTZ.exec(value);
  if (!utc) return new Date(value).toISOString();
  return `${utc[1]}T${utc[2]}.${((utc[3] ?? "") + "000").slice(0, 3)}Z`;
}


/** pg type parsers that make PostgreSQL rows look like SQLite ones: numbers and ISO strings. */
const pgTypes = {
  getTypeParser(oid: number, format?: "text" | "binary") {
    if (oid === INT8_OID) return (value: string) => Number(value);
    if (oid === TIMESTAMPTZ_OID) return timestamptzToIso;
    return pg.types.getTypeParser(oid, format);
  },
} as pg.CustomTypesConfig;

export interface OpenStorageOptions {
  /** Most PostgreSQL connections in the pool. @default 10 */
  poolSize?: number;
}

/** Kysely prepares every query anew: here its statements come from {@link preparedStatement}. */
function withStatementCache(sqlite: SqliteDatabase.Database): SqliteDialectConfig["database"] {
  return {
    close: () => sqlite.close(),
    prepare: (sql: string) => preparedStatement(sqlite, sql),
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
const statementNames = new Map<string, string>();

/** A statement's name: a hash of its text, remembered for the texts that keep coming back. */
function statementName(text: string): string {
  let name = statementNames.get(text);
  if (!name) {
    if (statementNames.size >= STATEMENT_CACHE_SIZE) statementNames.clear();
    statementNames.set(text, (name = createHash("sha1").update(text).digest("base64url")));
  }
  return name;
}

/**
 * Runs a query through pg's callback form. Its promise form (`client.query`
 * without a callback) left a large share of every result alive through the
 * next young-generation collection: measured on a loop of 50-message pages,
 * 3 to 4 MB survived each scavenge instead of a few KB, each scavenge paused
 * the process 6 to 13 ms instead of under 1, and the p99 of a page read
 * doubled. The callback form has none of that.
 */
function run(client: pg.PoolClient, config: pg.QueryConfig): Promise<pg.QueryResult> {
  return new Promise((resolve, reject) => {
    client.query(config, (err: Error | undefined, result: pg.QueryResult) => (err ? reject(err) : resolve(result)));
  });
}

/**
 * A statement whose text starts with this comment gets its rows from
 * PostgreSQL as arrays of column values, in the order of its select list,
 * not as objects keyed by column name. pg builds each object row by copying
 * a template object and assigning every column by name; for the batched
 * history and sync pages (then 37 columns, up to a hundred rows) pg's
 * result parsing was a fifth of the server's time in a profiled run of
 * 4,000 history requests (1.2 s), and 0.5 s with arrays. Kysely hands such rows
 * through untouched; the statement's reader maps them by position.
 * PostgreSQL only: SQLite's driver ignores the comment and returns objects,
 * so only statements that run on PostgreSQL alone (see `member-pages.ts`)
 * may start with it.
 */
export const ROWS_AS_ARRAYS = "/* rows as arrays */ ";

function withNamedStatements(pool: pg.Pool): PostgresPool {
  const wrapped = new WeakMap<pg.PoolClient, PostgresPoolClient>();
  const wrap = (client: pg.PoolClient): PostgresPoolClient => {
    const named = new Set<string>();
    /** Prepared before the schema changed under them (another node migrated): sent unnamed from then on. */
    const stale = new Set<string>();
    return {
      query: (async (text: unknown, values?: readonly unknown[]) => {
        if (typeof text !== "string") return client.query(text as never, values as never);
        const unnamed: pg.QueryConfig & { rowMode?: "array" } = { text, values: values as unknown[] | undefined };
        if (text.startsWith(ROWS_AS_ARRAYS)) unnamed.rowMode = "array";
        if (!values || values.length === 0) return run(client, unnamed);
        const name = statementName(text);
        if (stale.has(name)) return run(client, unnamed);
        if (!named.has(name)) {
          if (named.size >= NAMED_STATEMENTS_PER_CONNECTION) return run(client, unnamed);
          named.add(name);
        }
        try {
          return await run(client, { name, ...unnamed });
        } catch (err) {
          if (!isStalePlan(err)) throw err;
          stale.add(name);
          // Outside a transaction nothing ran: run it again, unnamed. Inside
          // one the transaction is now aborted; the caller's retry (a commit
          // group runs each unit again alone) goes unnamed.
          if ((client as unknown as { getTransactionStatus?: () => string }).getTransactionStatus?.() !== "I") throw err;
          return run(client, unnamed);
        }
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
 * PostgreSQL refuses a prepared statement whose result columns changed
 * since it was prepared (another node's migration added a column); run
 * again, the statement goes unnamed and succeeds.
 */
export function isStalePlan(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown };
  return e.code === "0A000" && typeof e.message === "string" && e.message.includes("cached plan must not change result type");
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
    // SQLite keeps the WAL beside the file a symbolic link leads to.
    const wal = file === ":memory:" ? null : new SqliteWal(sqlite, realpathSync(file));
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
    return {
      db,
      batchDb: db,
      dialect: "sqlite",
      sqlite,
      sqliteWal: wal,
      destroy: async () => {
        await wal?.close();
        await checkpointer?.stop();
        await db.destroy();
      },
    };
  }
  const db = postgresKysely(url, options.poolSize ?? 10);
  const batchDb = postgresKysely(url, BATCH_POOL_SIZE, "-c plan_cache_mode=force_generic_plan");
  return {
    db,
    batchDb,
    dialect: "postgres",
    sqlite: null,
    sqliteWal: null,
    destroy: async () => {
      await Promise.all([db.destroy(), batchDb.destroy()]);
    },
  };
}

/**
 * Connections of the batch pool: the commit group's transaction, and beside
 * it the batched reads (access checks, session summaries, the presence
 * lookups of users leaving), one batch of each at a time.
 */
const BATCH_POOL_SIZE = 4;

function postgresKysely(url: string, max: number, options?: string): Kysely<Database> {
  // Sessions in UTC, so timestamps arrive in the form timestamptzToIso rearranges.
  // JIT off: every statement here is a short index walk, but PostgreSQL
  // compiles one whenever its estimated cost passes `jit_above_cost`, and a
  // generic plan of a batched statement (array lengths and limits unknown
  // when planned) is estimated far above it: a 50-message history page read
  // in 0.5 ms took 20 to 40 ms, nearly all of it compiling.
  const sessionOptions = ["-c TimeZone=UTC -c jit=off", options].filter(Boolean).join(" ");
  const pool = new pg.Pool({ connectionString: url, max, types: pgTypes, connectionTimeoutMillis: 5000, options: sessionOptions });
  // An idle client losing its connection must not crash the process; the
  // next query reports the failure as `unavailable`.
  pool.on("error", () => {});
  // Same for a client that loses its connection while checked out: the query
  // in flight fails (and is answered `unavailable`); the process must not.
  pool.on("connect", (client) => client.on("error", () => {}));
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool: withNamedStatements(pool) }) });
}
