import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import pg from "pg";

/** Which database a Parley target runs on. */
export type DatabaseKind = "sqlite" | "postgres";

/** A database made for one scenario and removed after it. */
export interface FreshDatabase {
  readonly kind: DatabaseKind;
  /** What Parley's PARLEY_DATABASE_URL would be. */
  readonly url: string;
  /** For SQLite, the file. */
  readonly file?: string;
  /**
   * CPU time (ms) used so far by the PostgreSQL backends serving this
   * database, read from /proc; `null` for SQLite (it runs inside Parley's
   * process and is counted there) or where /proc is not readable.
   */
  cpuMs(): Promise<number | null>;
  drop(): Promise<void>;
}

/** Linux's USER_HZ: /proc reports CPU time in these ticks. */
const CLOCK_TICKS_PER_SECOND = 100;

function processCpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces) start at ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return Number.isFinite(utime) && Number.isFinite(stime) ? ((utime + stime) * 1000) / CLOCK_TICKS_PER_SECOND : null;
  } catch {
    return null;
  }
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Checks that PostgreSQL answers at `adminUrl`; resolves to the reason when it does not. */
export async function postgresProblem(adminUrl: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query("select 1");
    return null;
  } catch (err) {
    return (err as Error).message;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Creates an empty database: a new SQLite file under `workDir`, or a new
 * PostgreSQL database next to the one `postgresUrl` names (which is only
 * used to run CREATE and DROP DATABASE).
 */
export async function createFreshDatabase(kind: DatabaseKind, workDir: string, postgresUrl: string): Promise<FreshDatabase> {
  const tag = `${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`;
  if (kind === "sqlite") {
    const dir = path.join(workDir, `sqlite-${tag}`);
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, "parley.db");
    return {
      kind,
      url: `sqlite:${file}`,
      file,
      cpuMs: async () => null,
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const name = `parley_bench_${tag}`;
  const admin = new pg.Client({ connectionString: postgresUrl, connectionTimeoutMillis: 5000 });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  // Backends come and go (Parley's pool closes idle ones): each keeps the
  // last CPU time read from it, so the total never goes back. A backend that
  // exits between two readings loses its CPU since the last one (an undercount).
  const lastCpuMs = new Map<number, number>();
  return {
    kind,
    url: withDatabase(postgresUrl, name),
    cpuMs: async () => {
      const c = new pg.Client({ connectionString: postgresUrl, connectionTimeoutMillis: 5000 });
      await c.connect();
      try {
        const { rows } = await c.query<{ pid: number }>("select pid from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()", [name]);
        for (const { pid } of rows) {
          const ms = processCpuMs(pid);
          if (ms === null) return null;
          lastCpuMs.set(pid, Math.max(ms, lastCpuMs.get(pid) ?? 0));
        }
        let total = 0;
        for (const ms of lastCpuMs.values()) total += ms;
        return total;
      } finally {
        await c.end();
      }
    },
    drop: async () => {
      const c = new pg.Client({ connectionString: postgresUrl, connectionTimeoutMillis: 5000 });
      await c.connect();
      try {
        await c.query(`drop database if exists ${name} with (force)`);
      } finally {
        await c.end();
      }
    },
  };
}
