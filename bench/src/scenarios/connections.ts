import { performance } from "node:perf_hooks";
import { WorkerPool } from "../load/worker-pool.js";
import type { ConnectResult, SimUser } from "../load/worker-protocol.js";
import { profiled } from "../profile/profiling.js";
import { KB, MB, comparisonTable, ratiosOf } from "../report/format.js";
import type { GoalCheck, Metric, RunResult, ScenarioReport } from "../report/report-model.js";
import type { FreshDatabase } from "../setup/fresh-database.js";
import { Histogram } from "../stats/histogram.js";
import type { Target } from "../targets/target.js";
import { cpuPercent, type ProcessStats } from "../targets/target-spec.js";
import { secondsSince, sleep, targetOrder, waitForQuiet, withTarget, type ScenarioContext, type TargetChoice, type WithTargetOptions } from "./scenario-context.js";

const GOAL_KB = 30;

export const CONNECTION_METRICS: Metric[] = [
  { key: "rssPerConnectionKb", label: "server RSS per connection", unit: "KB", better: "lower", digits: 1 },
  { key: "heapPerConnectionKb", label: "server JS heap per connection", unit: "KB", better: "lower", digits: 1 },
  { key: "connectRate", label: "connect rate", unit: "conn/s", better: "higher", digits: 0 },
  { key: "connectP50", label: "handshake → session p50", unit: "ms", better: "lower", digits: 1 },
  { key: "connectP99", label: "handshake → session p99", unit: "ms", better: "lower", digits: 1 },
  { key: "serverCpu", label: "server CPU while connecting", unit: "% of a core", better: "lower", digits: 0 },
  { key: "databaseCpu", label: "PostgreSQL backends CPU while connecting", unit: "% of a core", better: "lower", digits: 0 },
  { key: "generatorCpu", label: "load generator CPU while connecting", unit: "% of a core", better: "none", digits: 0 },
  { key: "rssBeforeMb", label: "server RSS idle, no connections", unit: "MB", better: "lower", digits: 0 },
  { key: "rssAfterMb", label: "server RSS with every connection", unit: "MB", better: "lower", digits: 0 },
  { key: "generatorRssPerConnectionKb", label: "load generator RSS per connection", unit: "KB", better: "none", digits: 1 },
];

/** What connecting `users` to a target cost it. */
export interface ConnectionFigures {
  connected: number;
  figures: Record<string, number | null>;
  errors: Record<string, number>;
}

/**
 * Connects every user (spread over the pool), waits for the target to go
 * quiet, and reads its memory after a full GC before and after.
 */
export async function measureConnections(
  ctx: ScenarioContext,
  target: Target,
  pool: WorkerPool,
  shares: SimUser[][],
  database: FreshDatabase | null,
  profileName: string | null,
): Promise<ConnectionFigures> {
  const before = await target.stats(true);
  const genBefore = await pool.stats();
  const dbBefore = (await database?.cpuMs()) ?? null;
  const cpuBefore = await target.stats();
  const started = performance.now();
  const run = () => pool.each<ConnectResult>("connect", (w) => ({ users: shares[w], concurrency: 25, timeoutMs: 60_000 }), 600_000);
  const results = profileName ? (await profiled(ctx, target, profileName, run)).value : await run();
  const elapsed = performance.now() - started;
  const cpuAfter = await target.stats();
  const dbAfter = (await database?.cpuMs()) ?? null;
  const genCpuAfter = await pool.stats();
  const connected = results.reduce((a, r) => a + r.connected, 0);
  await waitForQuiet(target, connected, 30_000);
  await sleep(1000);
  const after: ProcessStats = await target.stats(true);
  const genAfter = await pool.stats();
  const latency = Histogram.from(...results.map((r) => r.latency));
  const errors: Record<string, number> = {};
  for (const r of results) for (const [k, v] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + v;
  const genRss = genAfter.reduce((a, s) => a + s.rss, 0) - genBefore.reduce((a, s) => a + s.rss, 0);
  return {
    connected,
    errors,
    figures: {
      rssPerConnectionKb: connected > 0 ? (after.rss - before.rss) / connected / KB : null,
      heapPerConnectionKb: connected > 0 ? (after.heapUsed - before.heapUsed) / connected / KB : null,
      connectRate: (connected / elapsed) * 1000,
      connectP50: latency.percentile(50),
      connectP99: latency.percentile(99),
      serverCpu: cpuPercent(cpuBefore, cpuAfter),
      databaseCpu: dbBefore !== null && dbAfter !== null ? ((dbAfter - dbBefore) / (cpuAfter.at - cpuBefore.at)) * 100 : null,
      generatorCpu: genBefore.reduce((a, b, i) => a + cpuPercent(b, genCpuAfter[i]!), 0),
      rssBeforeMb: before.rss / MB,
      rssAfterMb: after.rss / MB,
      generatorRssPerConnectionKb: connected > 0 ? genRss / connected / KB : null,
    },
  };
}

/** Users with no conversations, split evenly over `workers`. */
export function idleUsers(count: number, workers: number, prefix: string): SimUser[][] {
  const shares: SimUser[][] = Array.from({ length: workers }, () => []);
  for (let i = 0; i < count; i++) shares[i % workers]!.push({ userId: `${prefix}${i}`, conversations: [] });
  return shares;
}

export async function connectionsOn(
  ctx: ScenarioContext,
  choice: TargetChoice,
  count: number,
  withOptions: WithTargetOptions = {},
  profileName: string | null = null,
): Promise<RunResult> {
  return withTarget(
    ctx,
    choice,
    async (target, database) => {
      const workers = Math.max(1, Math.min(ctx.options.connectionWorkers, Math.ceil(count / 500)));
      const shares = idleUsers(count, workers, "c");
      const pool = await WorkerPool.start({
        count: workers,
        url: target.url,
        dialect: target.spec.kind,
        jwtSecret: ctx.jwtSecret,
        logFile: ctx.logFile,
        ...(withOptions.env ? { env: withOptions.env } : {}),
      });
      try {
        const m = await measureConnections(ctx, target, pool, shares, database, profileName);
        const f = m.figures;
        ctx.progress(
          `  ${choice.label}: ${m.connected}/${count} connected at ${f.connectRate?.toFixed(0)}/s (p99 ${f.connectP99?.toFixed(1)} ms), ` +
            `${f.rssPerConnectionKb?.toFixed(1)} KB RSS and ${f.heapPerConnectionKb?.toFixed(1)} KB heap per connection` +
            (Object.keys(m.errors).length > 0 ? `; errors ${JSON.stringify(m.errors)}` : ""),
        );
        const notes = m.connected < count ? [`only ${m.connected} of ${count} connected: ${JSON.stringify(m.errors)}`] : [];
        return { label: choice.label, target: choice.kind, database: choice.database, figures: f, details: { connected: m.connected, errors: m.errors }, notes };
      } finally {
        await pool.stop();
      }
    },
    withOptions,
  );
}

/**
 * connections: many idle authenticated connections. RSS per connection is
 * the growth of the target's RSS (after a full GC) divided by the number of
 * connections; the connect rate is connections per second with 25
 * handshakes in flight per generator process.
 */
export async function runConnections(ctx: ScenarioContext): Promise<ScenarioReport> {
  const started = performance.now();
  const count = ctx.options.connections;
  const runs: RunResult[] = [];
  for (const choice of targetOrder(ctx)) {
    runs.push(await connectionsOn(ctx, choice, count, {}, choice.kind === "parley" ? `connect-${choice.database}` : null));
  }
  const checks: GoalCheck[] = runs
    .filter((r) => r.target === "parley" && r.database)
    .map((r) => ({
      goal: `connections: < ${GOAL_KB} KB RSS per idle authenticated connection`,
      database: r.database!,
      met: (r.figures.rssPerConnectionKb ?? Infinity) < GOAL_KB,
      measured: `${(r.figures.rssPerConnectionKb ?? NaN).toFixed(1)} KB`,
    }));
  return {
    scenario: "connections",
    title: `connections — ${count.toLocaleString("en-US")} idle authenticated connections`,
    parameters: { connections: count, workers: ctx.options.connectionWorkers, handshakesInFlightPerWorker: 25 },
    metrics: CONNECTION_METRICS,
    runs,
    ratios: ratiosOf(CONNECTION_METRICS, runs),
    checks,
    tables: [comparisonTable(`connections (${count.toLocaleString("en-US")} idle)`, CONNECTION_METRICS, runs)],
    notes: runs.flatMap((r) => (r.notes ?? []).map((n) => `${r.label}: ${n}`)),
    elapsedSeconds: secondsSince(started),
  };
}
