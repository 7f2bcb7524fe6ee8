import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";

/** A database a test suite runs against, created fresh and dropped afterwards. */
export interface Backend {
  readonly name: "sqlite" | "postgres";
  /** Creates an empty database and returns its URL. */
  create(): Promise<string>;
  /** Drops every database this backend created. */
  cleanup(): Promise<void>;
}

const pgUrl = process.env.PARLEY_TEST_DATABASE_URL;

function sqliteBackend(): Backend {
  const dirs: string[] = [];
  return {
    name: "sqlite",
    async create() {
      const dir = mkdtempSync(path.join(tmpdir(), "parley-test-"));
      dirs.push(dir);
      return `sqlite:${path.join(dir, "parley.db")}`;
    },
    async cleanup() {
      for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    },
  };
}

function postgresBackend(adminUrl: string): Backend {
  const created: string[] = [];
  const admin = () => new pg.Client({ connectionString: adminUrl });
  return {
    name: "postgres",
    async create() {
      const name = `parley_test_${randomBytes(6).toString("hex")}`;
      const client = admin();
      await client.connect();
      try {
        await client.query(`create database ${name}`);
      } finally {
        await client.end();
      }
      created.push(name);
      const url = new URL(adminUrl);
      url.pathname = `/${name}`;
      return url.toString();
    },
    async cleanup() {
      const client = admin();
      await client.connect();
      try {
        for (const name of created.splice(0)) await client.query(`drop database if exists ${name} with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}

let announced = false;

/** SQLite always; PostgreSQL when `PARLEY_TEST_DATABASE_URL` is set (else a "skipped: …" line). */
export function backends(): Backend[] {
  const list = [sqliteBackend()];
  if (pgUrl) list.push(postgresBackend(pgUrl));
  else if (!announced) {
    announced = true;
    process.stdout.write("skipped: PostgreSQL runs of these suites (PARLEY_TEST_DATABASE_URL is not set)\n");
  }
  return list;
}
