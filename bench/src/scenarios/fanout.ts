import { performance } from "node:perf_hooks";
import { WorkerPool, shareUsers } from "../load/worker-pool.js";
import type { FanoutStepParams, FanoutStepResult, SimUser, Tally } from "../load/worker-protocol.js";
import { profiled } from "../profile/profiling.js";
import type { ProfileSummary } from "../profile/cpu-profile-summary.js";
import { MB, comparisonTable, ratioColumns, ratiosOf, type RatioColumn } from "../report/format.js";
import type { GoalCheck, Metric, RunResult, ScenarioReport } from "../report/report-model.js";
import type { FreshDatabase } from "../setup/fresh-database.js";
import { groupedUsers } from "../setup/populations.js";
import { Histogram } from "../stats/histogram.js";
import type { Target } from "../targets/target.js";
import { cpuPercent } from "../targets/target-spec.js";
import {
  DATABASE_LABEL,
  sampled,
  secondsSince,
  sleep,
  targetOrder,
  usage,
  withTarget,
  type ScenarioContext,
  type TargetChoice,
} from "./scenario-context.js";

/** One rate step, merged over workers. */
export interface FanoutStep {
  rate: number;
  sendRate: number;
  deliveredPerSecond: number;
  p50: number;
  p99: number;
  max: number;
  ackP50: number;
  ackP99: number;
  sent: number;
  expected: number;
  delivered: number;
  lost: number;
  duplicated: number;
  late: number;
  refused: number;
  refusedBy: Tally;
  unacked: number;
  sendLagP99: number;
  serverCpu: number;
  serverPeakRss: number;
  /** PostgreSQL backends serving Parley, % of a core (null on SQLite and the relay). */
  databaseCpu: number | null;
  generatorCpu: number;
  /** How long the server's event loop was held during the step, and its GC pauses (see `Target.stalls`). */
  loopDelayP99: number;
  loopDelayMax: number;
  gcPauses: number;
  gcPauseMax: number;
  gcPauseTotal: number;
  holds: boolean;
  /** Why the step did not hold. */
  verdict: string;
}

/** Most steps down from --rate-start when even it does not hold. */
const DOWN_STEPS = 6;

const METRICS: Metric[] = [
  { key: "sustainedRate", label: "highest sustained send rate", unit: "msg/s", better: "higher", digits: 0 },
  { key: "deliveredPerSecond", label: "delivered at that rate", unit: "msg/s", better: "higher", digits: 0 },
  { key: "p50", label: "send→receive p50", unit: "ms", better: "lower", digits: 2 },
  { key: "p99", label: "send→receive p99", unit: "ms", better: "lower", digits: 2 },
  { key: "max", label: "send→receive max", unit: "ms", better: "lower", digits: 1 },
  { key: "ackP50", label: "ack p50", unit: "ms", better: "lower", digits: 2 },
  { key: "ackP99", label: "ack p99", unit: "ms", better: "lower", digits: 2 },
  { key: "lost", label: "lost", unit: "", better: "lower", digits: 0 },
  { key: "duplicated", label: "duplicated", unit: "", better: "lower", digits: 0 },
  { key: "serverCpu", label: "server CPU", unit: "% of a core", better: "lower", digits: 0 },
  { key: "serverRssMb", label: "server RSS", unit: "MB", better: "lower", digits: 0 },
  { key: "databaseCpu", label: "PostgreSQL backends CPU", unit: "% of a core", better: "lower", digits: 0 },
  { key: "generatorCpu", label: "load generator CPU", unit: "% of a core", better: "none", digits: 0 },
  { key: "loopDelayMax", label: "server event loop held, longest", unit: "ms", better: "lower", digits: 1 },
  { key: "gcPauseMax", label: "server GC pause, longest", unit: "ms", better: "lower", digits: 1 },
  { key: "firstFailingRate", label: "first rate that did not hold", unit: "msg/s", better: "higher", digits: 0 },
];

function mergeSteps(
  rate: number,
  results: FanoutStepResult[],
): Omit<
  FanoutStep,
  "serverCpu" | "serverPeakRss" | "databaseCpu" | "generatorCpu" | "loopDelayP99" | "loopDelayMax" | "gcPauses" | "gcPauseMax" | "gcPauseTotal" | "holds" | "verdict"
> {
  const latency = Histogram.from(...results.map((r) => r.latency));
  const ack = Histogram.from(...results.map((r) => r.ackLatency));
  const lag = Histogram.from(...results.map((r) => r.sendLag));
  const refusedBy: Tally = {};
  for (const r of results) for (const [k, v] of Object.entries(r.ackErrors)) refusedBy[k] = (refusedBy[k] ?? 0) + v;
  const window = Math.max(...results.map((r) => r.sendWindowMs));
  const sum = (f: (r: FanoutStepResult) => number) => results.reduce((a, r) => a + f(r), 0);
  return {
    rate,
    sendRate: results.reduce((a, r) => a + r.sendRate, 0),
    deliveredPerSecond: (sum((r) => r.delivered) / window) * 1000,
    p50: latency.percentile(50),
    p99: latency.percentile(99),
    max: latency.summary().max,
    ackP50: ack.percentile(50),
    ackP99: ack.percentile(99),
    sent: sum((r) => r.sent),
    expected: sum((r) => r.expected),
    delivered: sum((r) => r.delivered),
    lost: sum((r) => r.lost),
    duplicated: sum((r) => r.duplicated),
    late: sum((r) => r.late),
    refused: Object.values(refusedBy).reduce((a, b) => a + b, 0),
    refusedBy,
    unacked: sum((r) => r.unacked),
    sendLagP99: lag.percentile(99),
  };
}

export interface FanoutRig {
  target: Target;
  database: FreshDatabase | null;
  pool: WorkerPool;
  shares: SimUser[][];
  total: number;
}

export async function runStep(ctx: ScenarioContext, rig: FanoutRig, step: number, rate: number, seconds: number): Promise<FanoutStep> {
  const { options } = ctx;
  const durationMs = seconds * 1000;
  const drainMs = Math.max(2000, options.p99LimitMs * 20);
  const genBefore = await rig.pool.stats();
  const dbBefore = (await rig.database?.cpuMs()) ?? null;
  await rig.target.stalls(true);
  const { value: results, samples } = await sampled(rig.target, 500, () =>
    rig.pool.each<FanoutStepResult>(
      "fanoutStep",
      (w) =>
        ({
          step,
          rate: (rate * rig.shares[w]!.length) / rig.total,
          durationMs,
          drainMs,
          textBytes: options.textBytes,
        }) satisfies FanoutStepParams,
      durationMs + drainMs + 30_000,
    ),
  );
  const stalls = await rig.target.stalls(true);
  const genAfter = await rig.pool.stats();
  const dbAfter = (await rig.database?.cpuMs()) ?? null;
  const wall = samples[samples.length - 1]!.at - samples[0]!.at;
  const databaseCpu = dbBefore !== null && dbAfter !== null && wall > 0 ? ((dbAfter - dbBefore) / wall) * 100 : null;
  const merged = mergeSteps(rate, results);
  const server = usage(samples);
  const generatorCpu = genBefore.reduce((a, before, i) => a + cpuPercent(before, genAfter[i]!), 0);
  const problems: string[] = [];
  if (merged.sendRate < rate * 0.95) problems.push(`generator sent only ${merged.sendRate.toFixed(0)}/s`);
  if (merged.p99 > options.p99LimitMs) problems.push(`p99 ${merged.p99.toFixed(1)} ms`);
  if (merged.lost > 0) problems.push(`${merged.lost} lost`);
  if (merged.duplicated > 0) problems.push(`${merged.duplicated} duplicated`);
  if (merged.refused > 0) problems.push(`${merged.refused} refused (${Object.keys(merged.refusedBy).join(", ")})`);
  if (merged.unacked > 0) problems.push(`${merged.unacked} unacknowledged`);
  return {
    ...merged,
    serverCpu: server.cpu,
    serverPeakRss: server.peakRss,
    databaseCpu,
    generatorCpu,
    loopDelayP99: stalls.loopDelayP99Ms,
    loopDelayMax: stalls.loopDelayMaxMs,
    gcPauses: stalls.gcPauses,
    gcPauseMax: stalls.gcPauseMaxMs,
    gcPauseTotal: stalls.gcPauseTotalMs,
    holds: problems.length === 0,
    verdict: problems.length === 0 ? "holds" : problems.join("; "),
  };
}

export function describeStep(s: FanoutStep): string {
  return (
    `    ${s.rate.toFixed(0).padStart(6)} msg/s: sent ${s.sendRate.toFixed(0)}/s, delivered ${s.deliveredPerSecond.toFixed(0)}/s, ` +
    `p50 ${s.p50.toFixed(2)} p99 ${s.p99.toFixed(2)} max ${s.max.toFixed(1)} ms, ack p99 ${s.ackP99.toFixed(2)} ms, ` +
    `server ${s.serverCpu.toFixed(0)}% CPU ${(s.serverPeakRss / MB).toFixed(0)} MB, ` +
    (s.databaseCpu === null ? "" : `PostgreSQL ${s.databaseCpu.toFixed(0)}%, `) +
    `generator ${s.generatorCpu.toFixed(0)}%; server loop held p99 ${s.loopDelayP99.toFixed(1)} max ${s.loopDelayMax.toFixed(1)} ms, ` +
    `GC ${s.gcPauses} pauses, longest ${s.gcPauseMax.toFixed(1)} ms → ${s.verdict}`
  );
}

/** Users in conversations, spread over generator processes and connected. */
export async function prepareFanout(
  ctx: ScenarioContext,
  target: Target,
  database: FreshDatabase | null,
  clients: number,
  env?: Record<string, string | undefined>,
): Promise<FanoutRig> {
  const { options } = ctx;
  const users = await groupedUsers(target, clients, options.members, "f");
  // Several nodes: users in turn, so the members of a conversation sit on
  // different nodes and its messages reach them through Redis.
  if (target.urls.length > 1) users.forEach((user, i) => (user.node = i % target.urls.length));
  const shares = shareUsers(users, Math.min(options.workers, Math.ceil(users.length / options.members)));
  const pool = await WorkerPool.start({
    count: shares.length,
    url: target.url,
    urls: target.urls,
    dialect: target.spec.kind,
    jwtSecret: ctx.jwtSecret,
    logFile: ctx.logFile,
    ...(env ? { env } : {}),
  });
  try {
    const connected = await pool.each<{ connected: number; failed: number; errors: Tally }>(
      "connect",
      (w) => ({ users: shares[w], concurrency: 25, timeoutMs: 30_000 }),
      180_000,
    );
    const failed = connected.reduce((a, c) => a + c.failed, 0);
    if (failed > 0) throw new Error(`${failed} clients could not connect: ${JSON.stringify(connected.map((c) => c.errors))}`);
  } catch (err) {
    await pool.stop();
    throw err;
  }
  return { target, database, pool, shares, total: users.length };
}

type FanoutRun = RunResult & { profile: ProfileSummary | null };

async function fanoutOn(ctx: ScenarioContext, choice: TargetChoice, round: number): Promise<FanoutRun> {
  const { options } = ctx;
  const nodes = choice.nodes ?? 1;
  ctx.progress(
    `  ${choice.label}${options.rounds > 1 ? `, round ${round + 1} of ${options.rounds}` : ""}: ` +
      `${options.fanoutClients} clients in conversations of ${options.members}` +
      (nodes > 1 ? `, spread over ${nodes} nodes sharing Redis at ${options.redisUrl}` : ""),
  );
  return withTarget(ctx, choice, async (target, database) => {
    const rig = await prepareFanout(ctx, target, database, options.fanoutClients);
    const { pool } = rig;
    try {
      const clientsPerNode = (await target.nodeStats()).map((s) => s.connections);
      if (nodes > 1) ctx.progress(`    clients per node: ${clientsPerNode.join(", ")}`);

      // Warm-up at the first rate (JIT, pools, caches); not counted.
      await runStep(ctx, rig, 0, options.rateStart, Math.min(2, options.stepSeconds));
      await sleep(500);

      const steps: FanoutStep[] = [];
      let best: FanoutStep | null = null;
      let firstFail: FanoutStep | null = null;
      let rate = options.rateStart;
      let step = 1;
      // A rate that does not hold is tried again (--retries) before it counts:
      // on a shared machine one stall of another process can fail a step.
      const measure = async (at: number): Promise<FanoutStep> => {
        let s = await runStep(ctx, rig, step++, at, options.stepSeconds);
        steps.push(s);
        ctx.progress(describeStep(s));
        for (let retry = 0; retry < options.retries && !s.holds; retry++) {
          await sleep(500);
          s = await runStep(ctx, rig, step++, at, options.stepSeconds);
          steps.push(s);
          ctx.progress(describeStep(s) + " (again)");
        }
        return s;
      };
      for (let i = 0; i < options.maxSteps; i++) {
        const s = await measure(rate);
        if (!s.holds) {
          firstFail = s;
          break;
        }
        best = s;
        rate *= options.rateFactor;
        await sleep(500);
      }
      // Even the first rate did not hold: step down by the same factor until
      // one does, so a slow column still gets a figure (100 → 9 msg/s at most).
      for (let i = 0; !best && firstFail && i < DOWN_STEPS; i++) {
        const lower = Math.max(1, Math.round(firstFail.rate / options.rateFactor));
        if (lower >= firstFail.rate) break;
        await sleep(500);
        const s = await measure(lower);
        if (s.holds) best = s;
        else firstFail = s;
      }
      if (best && firstFail) {
        let lo = best.rate;
        let hi = firstFail.rate;
        for (let i = 0; i < options.refine; i++) {
          const mid = Math.round(Math.sqrt(lo * hi));
          if (mid <= lo || mid >= hi) break;
          await sleep(500);
          const s = await measure(mid);
          if (s.holds) {
            best = s;
            lo = mid;
          } else {
            firstFail = s;
            hi = mid;
          }
        }
      }

      let profile: ProfileSummary | null = null;
      if (options.profile && round === 0 && target.spec.kind === "parley") {
        const at = best?.rate ?? options.rateStart;
        await sleep(500);
        const p = await profiled(ctx, target, `fanout-${choice.database}`, () => runStep(ctx, rig, step++, at, options.stepSeconds));
        ctx.progress(`    profiled step: ${describeStep(p.value).trim()}`);
        profile = p.profile;
      }

      const shown = best ?? steps[0]!;
      const notes: string[] = [];
      if (nodes > 1 && options.profile) notes.push("the profile covers the first node only");
      if (!best) notes.push(`no rate held, down to ${firstFail?.rate.toFixed(0) ?? "?"}/s: ${firstFail?.verdict ?? "?"}`);
      else if (best.rate < options.rateStart) notes.push(`the first rate (${options.rateStart}/s) did not hold; stepped down to ${best.rate.toFixed(0)}/s`);
      if (best && !firstFail) notes.push(`every rate up to ${best.rate.toFixed(0)}/s held; the limit is higher`);
      return {
        label: choice.label,
        target: choice.kind,
        database: choice.database,
        nodes,
        figures: {
          sustainedRate: best ? best.rate : 0,
          deliveredPerSecond: shown.deliveredPerSecond,
          p50: shown.p50,
          p99: shown.p99,
          max: shown.max,
          ackP50: shown.ackP50,
          ackP99: shown.ackP99,
          lost: shown.lost,
          duplicated: shown.duplicated,
          serverCpu: shown.serverCpu,
          serverRssMb: shown.serverPeakRss / MB,
          databaseCpu: shown.databaseCpu,
          generatorCpu: shown.generatorCpu,
          loopDelayMax: shown.loopDelayMax,
          gcPauseMax: shown.gcPauseMax,
          firstFailingRate: firstFail ? firstFail.rate : null,
        },
        details: {
          nodes,
          clientsPerNode,
          ...(target.spec.redisPrefix ? { redisPrefix: target.spec.redisPrefix } : {}),
          steps,
          firstFail,
        },
        notes,
        profile,
      };
    } finally {
      await pool.stop();
    }
  });
}

/** `a` as a whole percentage of `b`, or a dash. */
function percentOf(a: number | null | undefined, b: number | null | undefined): string {
  return a != null && b ? `${((a / b) * 100).toFixed(0)} %` : "–";
}

/**
 * A column's rounds as one: the round with the median sustained rate (the
 * lower of the middle two for an even count), every figure from that round,
 * and every round's rate and steps in `details.rounds`.
 */
function medianRound(rounds: FanoutRun[]): FanoutRun {
  if (rounds.length === 1) return rounds[0]!;
  const byRate = rounds.map((run, round) => ({ run, round })).sort((a, b) => (a.run.figures.sustainedRate ?? 0) - (b.run.figures.sustainedRate ?? 0));
  const { run, round } = byRate[Math.floor((byRate.length - 1) / 2)]!;
  const rates = rounds.map((r) => (r.figures.sustainedRate ?? 0).toFixed(0)).join(", ");
  return {
    ...run,
    // The profile, when asked for, is of the first round.
    profile: rounds[0]!.profile,
    details: {
      ...(run.details as object),
      round: round + 1,
      rounds: rounds.map((r, i) => ({ round: i + 1, figures: r.figures, details: r.details, notes: r.notes ?? [] })),
    },
    notes: [`round ${round + 1} of ${rounds.length} shown, the median sustained rate (rounds: ${rates} msg/s)`, ...(run.notes ?? [])],
  };
}

/** The steps of a column's shown round that held. */
function heldSteps(run: RunResult): FanoutStep[] {
  return ((run.details as { steps?: FanoutStep[] } | undefined)?.steps ?? []).filter((s) => s.holds);
}

/**
 * The highest rate every column held in its shown round, or `null`. Every
 * column steps through the same rates (before refining), so at this rate
 * they carried the same load.
 */
function commonHeldRate(runs: RunResult[]): number | null {
  const rates = runs.map((run) => new Set(heldSteps(run).map((s) => s.rate)));
  const shared = [...(rates[0] ?? [])].filter((rate) => rates.every((r) => r.has(rate)));
  return shared.length > 0 ? Math.max(...shared) : null;
}

/**
 * CPU per message at the same load in every column: what a send costs
 * Parley's server (and PostgreSQL, and the generator) beside what it costs
 * the relay, without the p99 tail deciding where each column stopped.
 * Added to each column's figures (the shown round's), with their metrics.
 */
function perMessageAtCommonRate(runs: RunResult[]): Metric[] {
  const rate = runs.length > 1 ? commonHeldRate(runs) : null;
  if (rate === null) return [];
  const microsPerMessage = (steps: FanoutStep[], cpu: (s: FanoutStep) => number | null) => {
    const values = steps.map((s) => {
      const percent = cpu(s);
      return percent === null || s.sendRate <= 0 ? null : (percent / 100 / s.sendRate) * 1e6;
    });
    if (values.length === 0 || values.some((v) => v === null)) return null;
    return (values as number[]).reduce((a, b) => a + b, 0) / values.length;
  };
  for (const run of runs) {
    const steps = heldSteps(run).filter((s) => s.rate === rate);
    run.figures.serverCpuPerMessage = microsPerMessage(steps, (s) => s.serverCpu);
    run.figures.databaseCpuPerMessage = microsPerMessage(steps, (s) => s.databaseCpu);
    run.figures.generatorCpuPerMessage = microsPerMessage(steps, (s) => s.generatorCpu);
  }
  const at = `at ${Math.round(rate).toLocaleString("en-US")} msg/s, the highest rate every column held`;
  return [
    { key: "serverCpuPerMessage", label: `server CPU per message ${at}`, unit: "µs", better: "lower", digits: 0 },
    { key: "databaseCpuPerMessage", label: `PostgreSQL backends CPU per message ${at}`, unit: "µs", better: "lower", digits: 0 },
    { key: "generatorCpuPerMessage", label: `load generator CPU per message ${at}`, unit: "µs", better: "none", digits: 0 },
  ];
}

/**
 * fanout: N clients in conversations of M members; an open-loop send rate
 * steps up until p99 send→receive latency passes the limit or anything is
 * lost, duplicated, refused or left unacknowledged.
 */
export async function runFanout(ctx: ScenarioContext): Promise<ScenarioReport> {
  const started = performance.now();
  const { options } = ctx;
  // The columns take turns, round after round, every other round in
  // reverse order (the relay stays in the middle), so that each is
  // measured in every part of the run: on a shared machine one column's
  // limit moved by half within minutes, more than any change to Parley did.
  const order = targetOrder(ctx);
  const rounds: FanoutRun[][] = order.map(() => []);
  for (let round = 0; round < options.rounds; round++) {
    const turn = order.map((choice, i) => ({ choice, i }));
    for (const { choice, i } of round % 2 === 0 ? turn : turn.reverse()) rounds[i]!.push(await fanoutOn(ctx, choice, round));
  }
  const runs = rounds.map(medianRound);
  const relayIndex = order.findIndex((c) => c.kind === "relay");
  const relay = runs[relayIndex];
  const checks: GoalCheck[] = [];
  for (const [i, run] of runs.entries()) {
    // The issue's target is for one node; more nodes get the ratio columns instead.
    if (run.target !== "parley" || !run.database || (run.nodes ?? 1) !== 1) continue;
    const rate = run.figures.sustainedRate ?? 0;
    const share = relay?.figures.sustainedRate ? rate / relay.figures.sustainedRate : null;
    // Each round's ratio, to the relay measured next to it in that round.
    const perRound =
      relayIndex >= 0 && options.rounds > 1
        ? `; by round ${rounds[i]!.map((r, k) => percentOf(r.figures.sustainedRate, rounds[relayIndex]![k]!.figures.sustainedRate)).join(", ")}`
        : "";
    checks.push({
      goal: "fanout: ≥ 60 % of the relay's sustained rate with p99 < 50 ms, nothing lost",
      database: run.database,
      met: share !== null && share >= 0.6 && rate > 0,
      measured:
        share === null
          ? `${rate.toFixed(0)} msg/s (no relay figure)`
          : `${rate.toFixed(0)} vs ${relay!.figures.sustainedRate!.toFixed(0)} msg/s = ${(share * 100).toFixed(0)} % of the relay` +
            (options.rounds > 1 ? ` (medians of ${options.rounds} rounds${perRound})` : ""),
    });
  }
  // Per database, each larger node count ÷ the smallest one measured.
  const byNodes: RatioColumn[] = [];
  for (const database of ctx.databases) {
    const same = runs.filter((r) => r.target === "parley" && r.database === database).sort((a, b) => (a.nodes ?? 1) - (b.nodes ?? 1));
    const base = same[0];
    if (!base) continue;
    const n0 = base.nodes ?? 1;
    for (const run of same.slice(1)) {
      const n = run.nodes ?? 1;
      byNodes.push({ label: `${DATABASE_LABEL[database]} ${n} nodes ÷ ${n0} node${n0 === 1 ? "" : "s"}`, of: run, to: base });
    }
  }
  const multi = options.nodes.length > 1 || options.nodes[0] !== 1;
  const nodesText = multi ? `, ${options.nodes.join(" and ")} nodes` : "";
  // With several nodes, server CPU and RSS are sums over the nodes of a column.
  const perMessage = perMessageAtCommonRate(runs);
  const metrics = [...METRICS, ...perMessage].map((m) =>
    multi && (m.key === "serverCpu" || m.key === "serverRssMb" || m.key === "serverCpuPerMessage") ? { ...m, label: `${m.label}, all nodes` } : m,
  );
  return {
    scenario: "fanout",
    title: `fanout — ${options.fanoutClients} clients, conversations of ${options.members}${nodesText}, p99 limit ${options.p99LimitMs} ms`,
    parameters: {
      clients: options.fanoutClients,
      members: options.members,
      rateStart: options.rateStart,
      rateFactor: options.rateFactor,
      stepSeconds: options.stepSeconds,
      retries: options.retries,
      rounds: options.rounds,
      p99LimitMs: options.p99LimitMs,
      textBytes: options.textBytes,
      workers: options.workers,
      nodes: options.nodes,
      ...(multi ? { redisUrl: options.redisUrl } : {}),
    },
    metrics,
    runs: runs.map(({ profile, ...run }) => ({ ...run, details: { ...(run.details as object), profile } })),
    ratios: ratiosOf(metrics, runs),
    ...(byNodes.length > 0 ? { nodeRatios: ratioColumns(metrics, byNodes) } : {}),
    checks,
    tables: [comparisonTable(`fanout (${options.fanoutClients} clients, groups of ${options.members}${nodesText})`, metrics, runs, byNodes)],
    notes: runs.flatMap((r) => (r.notes ?? []).map((n) => `${r.label}: ${n}`)),
    elapsedSeconds: secondsSince(started),
  };
}

