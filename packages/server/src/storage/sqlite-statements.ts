import type SqliteDatabase from "better-sqlite3";

/** Distinct SQL texts kept prepared; lists of `in (?, …)` of every length make the set open-ended. */
export const STATEMENT_CACHE_SIZE = 500;

const statementCaches = new WeakMap<SqliteDatabase.Database, Map<string, SqliteDatabase.Statement>>();

/**
 * A prepared statement for `sql` on this connection, kept by its text (at
 * most {@link STATEMENT_CACHE_SIZE}). Preparing costs about as much as
 * running a small query. Parley never streams rows, so a cached statement is
 * never busy when it is used again.
 */
export function preparedStatement(sqlite: SqliteDatabase.Database, sql: string): SqliteDatabase.Statement {
  let cache = statementCaches.get(sqlite);
  if (!cache) statementCaches.set(sqlite, (cache = new Map()));
  let statement = cache.get(sql);
  if (!statement) {
    if (cache.size >= STATEMENT_CACHE_SIZE) cache.clear();
    statement = sqlite.prepare(sql);
    cache.set(sql, statement);
  }
  return statement;
}

