import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import type { BenchOptions } from "../options.js";
import { createFreshDatabase, type DatabaseKind, type FreshDatabase } from "../setup/fresh-database.js";
import { deleteRedisKeys } from "../setup/redis-keys.js";
import { combineTargets, startTarget, type Target } from "../targets/target.js";
import { DEFAULT_TRANSPORT, cpuPercent, type ProcessStats, type TargetKind, type TransportSettings } from "../targets/target-spec.js";

/** What every scenario is given by the run. */
export interface ScenarioContext {
  readonly options: BenchOptions;
  readonly runId: string;
  /** Scratch space for SQLite files; removed at the end of the run. */
  readonly workDir: string;
  /** Targets' and workers' own output. */
  readonly logFile: string;
  readonly profileDir: string;
  readonly jwtSecret: string;
  readonly apiKey: string;
  /** Databases Parley runs on in this run (PostgreSQL is left out when it does not answer). */
  readonly databases: DatabaseKind[];
  progress(line: string): void;
}

/** One column of a scenario: Parley on a database, or the relay. */
export interface TargetChoice {
  kind: TargetKind;
  database: DatabaseKind | null;
  label: string;
  /** Parley nodes sharing the database through Redis (fanout with --nodes). @default 1 */
  nodes?: number;
}

export const DATABASE_LABEL: Record<DatabaseKind, string> = { sqlite: "SQLite", postgres: "PostgreSQL" };

/**
 * The order targets run in: Parley on the first database, the relay, then
 * Parley on the second, so the baseline is measured between the two and
 * drift on a shared machine touches both ratios alike.
 */
export function targetOrder(ctx: ScenarioContext): TargetChoice[] {
  const counts = ctx.options.nodes;
  // One column per node count; the plain label when there is only the default single node.
  const single = counts.length === 1 && counts[0] === 1;
  const parley = ctx.databases.flatMap((database) =>
    counts.map(
      (nodes): TargetChoice => ({
        kind: "parley",
        database,
        nodes,
        label: single ? `Parley ${DATABASE_LABEL[database]}` : `Parley ${DATABASE_LABEL[database]}, ${nodes} node${nodes === 1 ? "" : "s"}`,
      }),
    ),
  );
  if (ctx.options.noRelay) return parley;
  const relay: TargetChoice = { kind: "relay", database: null, label: "relay" };
  return parley.length === 0 ? [relay] : [parley[0]!, relay, ...parley.slice(1)];
}

export interface WithTargetOptions {
  transport?: TransportSettings;
  env?: Record<string, string | undefined>;
}

/**
 * Runs `work` against a fresh target (and, for Parley, a fresh database),
 * and always stops the target and drops the database afterwards. With
 * `choice.nodes` above 1, that many Parley processes share the database
 * through Redis under a key prefix of their own, removed afterwards; they
 * start one after the other, so only the first migrates the new database.
 */
export async function withTarget<T>(
  ctx: ScenarioContext,
  choice: TargetChoice,
  work: (target: Target, database: FreshDatabase | null) => Promise<T>,
  options: WithTargetOptions = {},
): Promise<T> {
  const nodes = choice.nodes ?? 1;
  if (nodes > 1 && (choice.kind !== "parley" || choice.database !== "postgres")) {
    throw new Error(`${choice.label}: ${nodes} nodes need Parley on PostgreSQL`);
  }
  const database = choice.database ? await createFreshDatabase(choice.database, ctx.workDir, ctx.options.postgresUrl) : null;
  const redisPrefix = nodes > 1 ? `parley-bench-${ctx.runId}-${randomBytes(4).toString("hex")}:` : null;
  const started: Target[] = [];
  try {
    for (let i = 0; i < nodes; i++) {
      started.push(
        await startTarget(
          {
            kind: choice.kind,
            ...(database ? { databaseUrl: database.url } : {}),
            jwtSecret: ctx.jwtSecret,
            apiKey: ctx.apiKey,
            transport: options.transport ?? DEFAULT_TRANSPORT,
            workDir: ctx.workDir,
            ...(redisPrefix ? { redisUrl: ctx.options.redisUrl, redisPrefix } : {}),
          },
          { logFile: ctx.logFile, ...(options.env ? { env: options.env } : {}) },
        ),
      );
    }
    return await work(combineTargets(started), database);
  } finally {
    await Promise.all(started.map((t) => t.stop().catch(() => undefined)));
    if (redisPrefix) {
      await deleteRedisKeys(ctx.options.redisUrl, redisPrefix).then(
        (n) => ctx.progress(`    removed ${n} Redis keys under ${redisPrefix}`),
        (err: unknown) => ctx.progress(`  could not remove the Redis keys under ${redisPrefix}: ${(err as Error).message}`),
      );
    }
    if (database) await database.drop().catch((err: unknown) => ctx.progress(`  could not drop ${database.url}: ${(err as Error).message}`));
  }
}

/** Samples a target's resource use every `intervalMs` while `work` runs. */
export async function sampled<T>(target: Target, intervalMs: number, work: () => Promise<T>): Promise<{ value: T; samples: ProcessStats[] }> {
  const samples: ProcessStats[] = [await target.stats()];
  let stop = false;
  let wake: (() => void) | null = null;
  const loop = (async () => {
    while (!stop) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, intervalMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      if (!stop) samples.push(await target.stats().catch(() => samples[samples.length - 1]!));
    }
  })();
  try {
    const value = await work();
    return { value, samples };
  } finally {
    stop = true;
    (wake as (() => void) | null)?.();
    await loop;
    samples.push(await target.stats());
  }
}

/** Peak RSS and average CPU (% of one core) over samples. */
export function usage(samples: ProcessStats[]): { peakRss: number; cpu: number } {
  const first = samples[0]!;
  const last = samples[samples.length - 1]!;
  return { peakRss: Math.max(...samples.map((s) => s.rss)), cpu: cpuPercent(first, last) };
}

/**
 * Waits until the target has `connections` open and has gone quiet (under
 * 10 % of a core over a quarter of a second), at most `timeoutMs`; resolves
 * to how long that took.
 */
export async function waitForQuiet(target: Target, connections: number, timeoutMs: number): Promise<number> {
  const started = performance.now();
  let prev = await target.stats();
  while (performance.now() - started < timeoutMs) {
    await sleep(250);
    const now = await target.stats();
    if (now.connections === connections && cpuPercent(prev, now) < 10) break;
    prev = now;
  }
  return performance.now() - started;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Seconds since `since` (a performance.now() value). */
export const secondsSince = (since: number): number => (performance.now() - since) / 1000;
