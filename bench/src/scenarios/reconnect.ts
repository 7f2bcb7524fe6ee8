import { performance } from "node:perf_hooks";
import type { ClientToServerEvents, Message, ServerToClientEvents } from "@parley/protocol";
import { io, type Socket } from "socket.io-client";
import { WorkerPool, shareUsers } from "../load/worker-pool.js";
import type { ConnectResult, ReconnectParams, ReconnectResult, SimUser, Tally } from "../load/worker-protocol.js";
import { profiled } from "../profile/profiling.js";
import { comparisonTable, ratiosOf } from "../report/format.js";
import type { GoalCheck, Metric, RunResult, ScenarioReport } from "../report/report-model.js";
import { ParleyAdmin, mapLimit } from "../setup/parley-admin.js";
import { groupedUsers } from "../setup/populations.js";
import { Histogram } from "../stats/histogram.js";
import type { Target } from "../targets/target.js";
import { cpuPercent } from "../targets/target-spec.js";
import { secondsSince, sleep, targetOrder, waitForQuiet, withTarget, type ScenarioContext, type TargetChoice } from "./scenario-context.js";

const GOAL_SECONDS = 10;

const METRICS: Metric[] = [
  { key: "caughtUpSeconds", label: "until every client has caught up", unit: "s", better: "lower", digits: 2 },
  { key: "catchUpP50", label: "per client: reconnect → caught up p50", unit: "ms", better: "lower", digits: 0 },
  { key: "catchUpP99", label: "per client: reconnect → caught up p99", unit: "ms", better: "lower", digits: 0 },
  { key: "caughtUp", label: "clients caught up", unit: "", better: "higher", digits: 0 },
  { key: "missed", label: "missed messages", unit: "", better: "lower", digits: 0 },
  { key: "duplicated", label: "duplicated messages", unit: "", better: "lower", digits: 0 },
  { key: "syncCalls", label: "conversation:sync calls", unit: "", better: "none", digits: 0 },
  { key: "connectErrors", label: "connect errors (retried)", unit: "", better: "lower", digits: 0 },
  { key: "serverCpu", label: "server CPU during the storm", unit: "% of a core", better: "lower", digits: 0 },
  { key: "databaseCpu", label: "PostgreSQL backends CPU during the storm", unit: "% of a core", better: "lower", digits: 0 },
  { key: "generatorCpu", label: "load generator CPU during the storm", unit: "% of a core", better: "none", digits: 0 },
  { key: "dropSettleSeconds", label: "server busy with the drop", unit: "s", better: "lower", digits: 1 },
];

type RelaySocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** Sends `perConversation` messages into each conversation while its members are away; resolves to their ids. */
async function sendWhileAway(target: Target, users: SimUser[], perConversation: number): Promise<Record<string, string[]>> {
  const firstMember = new Map<string, string>();
  for (const u of users) for (const c of u.conversations) if (!firstMember.has(c)) firstMember.set(c, u.userId);
  const jobs = [...firstMember.entries()].flatMap(([conversationId, userId]) =>
    Array.from({ length: perConversation }, (_, k) => ({ conversationId, userId, k })),
  );
  const expected: Record<string, string[]> = {};
  if (target.spec.kind === "parley") {
    // The host back end (or the user's other device) posts through REST meanwhile.
    const admin = new ParleyAdmin(target.url, target.spec.apiKey);
    const ids = await mapLimit(jobs, 16, (j) => admin.send(j.conversationId, j.userId, `While you were away ${j.k}`, `away-${j.conversationId}-${j.k}`));
    jobs.forEach((j, i) => (expected[j.conversationId] ??= []).push(ids[i]!));
    return expected;
  }
  const socket: RelaySocket = io(target.url, { transports: ["websocket"], forceNew: true, reconnection: false, auth: { user: "away-sender", rooms: [] } });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once("session", () => resolve());
      socket.once("connect_error", reject);
    });
    const ids = await mapLimit(jobs, 16, async (j) => {
      const ack = (await socket
        .timeout(30_000)
        .emitWithAck("message:send", { conversationId: j.conversationId, clientId: `away-${j.conversationId}-${j.k}`, text: `While you were away ${j.k}` })) as
        | { ok: true; data: Message }
        | { ok: false };
      if (!ack.ok) throw new Error("the relay refused a message");
      return ack.data.id;
    });
    jobs.forEach((j, i) => (expected[j.conversationId] ??= []).push(ids[i]!));
    return expected;
  } finally {
    socket.close();
  }
}

async function reconnectOn(ctx: ScenarioContext, choice: TargetChoice): Promise<RunResult> {
  const { options } = ctx;
  const count = options.reconnectClients;
  return withTarget(ctx, choice, async (target, database) => {
    ctx.progress(`  ${choice.label}: ${count} clients in conversations of ${options.members}`);
    const users = await groupedUsers(target, count, options.members, "r");
    const shares = shareUsers(users, Math.max(1, Math.min(options.connectionWorkers, Math.ceil(count / 500))));
    const pool = await WorkerPool.start({ count: shares.length, url: target.url, dialect: target.spec.kind, jwtSecret: ctx.jwtSecret, logFile: ctx.logFile });
    try {
      const connected = await pool.each<ConnectResult>("connect", (w) => ({ users: shares[w], concurrency: 25, timeoutMs: 60_000 }), 600_000);
      const failed = connected.reduce((a, c) => a + c.failed, 0);
      if (failed > 0) throw new Error(`${failed} clients could not connect: ${JSON.stringify(connected.map((c) => c.errors))}`);
      await waitForQuiet(target, count, 30_000);

      const dropStarted = performance.now();
      await pool.all("drop", {}, 60_000);
      await waitForQuiet(target, 0, 60_000);
      const dropSettleSeconds = secondsSince(dropStarted);

      const expected = await sendWhileAway(target, users, options.missed);
      const messagesAway = Object.values(expected).reduce((a, ids) => a + ids.length, 0);
      await waitForQuiet(target, 0, 30_000);
      await sleep(500);

      const genBefore = await pool.stats();
      const dbBefore = (await database?.cpuMs()) ?? null;
      const before = await target.stats();
      const started = performance.now();
      const storm = () =>
        pool.each<ReconnectResult>(
          "reconnect",
          (w) => {
            const mine: Record<string, string[]> = {};
            for (const u of shares[w]!) for (const c of u.conversations) if (expected[c]) mine[c] = expected[c];
            return { expected: mine, timeoutMs: options.reconnectTimeout * 1000, syncLimit: 200 } satisfies ReconnectParams;
          },
          options.reconnectTimeout * 1000 + 60_000,
        );
      const results = (await profiled(ctx, target, `reconnect-${choice.database}`, storm)).value;
      const wall = performance.now() - started;
      const after = await target.stats();
      const dbAfter = (await database?.cpuMs()) ?? null;
      const genAfter = await pool.stats();

      const catchUp = Histogram.from(...results.map((r) => r.catchUp));
      const sum = (f: (r: ReconnectResult) => number) => results.reduce((a, r) => a + f(r), 0);
      const caughtUp = sum((r) => r.caughtUp);
      const syncErrors: Tally = {};
      for (const r of results) for (const [k, v] of Object.entries(r.syncErrors)) syncErrors[k] = (syncErrors[k] ?? 0) + v;
      const allCaughtUp = caughtUp === count;
      const figures: Record<string, number | null> = {
        caughtUpSeconds: allCaughtUp ? Math.max(...results.map((r) => r.elapsedMs)) / 1000 : null,
        catchUpP50: catchUp.percentile(50),
        catchUpP99: catchUp.percentile(99),
        caughtUp,
        missed: sum((r) => r.missed),
        duplicated: sum((r) => r.duplicated),
        syncCalls: sum((r) => r.syncCalls),
        connectErrors: sum((r) => r.connectErrors),
        serverCpu: cpuPercent(before, after),
        databaseCpu: dbBefore !== null && dbAfter !== null ? ((dbAfter - dbBefore) / (after.at - before.at)) * 100 : null,
        generatorCpu: genBefore.reduce((a, b, i) => a + cpuPercent(b, genAfter[i]!), 0),
        dropSettleSeconds,
      };
      const notes: string[] = [];
      if (!allCaughtUp) notes.push(`only ${caughtUp} of ${count} clients caught up within ${options.reconnectTimeout} s`);
      if (Object.keys(syncErrors).length > 0) notes.push(`sync errors: ${JSON.stringify(syncErrors)}`);
      if (target.spec.kind === "relay") notes.push("the relay stores nothing, so every message sent while a client was away is missed by design");
      ctx.progress(
        `    ${caughtUp}/${count} caught up in ${figures.caughtUpSeconds?.toFixed(2) ?? "–"} s (wall ${(wall / 1000).toFixed(2)} s), ` +
          `${messagesAway} messages sent while away, missed ${figures.missed}, duplicated ${figures.duplicated}, ` +
          `${figures.syncCalls} syncs, ${figures.connectErrors} connect errors, server ${figures.serverCpu?.toFixed(0)}% CPU` +
          (figures.databaseCpu == null ? "" : `, PostgreSQL ${figures.databaseCpu.toFixed(0)}%`) +
          `, generator ${figures.generatorCpu?.toFixed(0)}%; ` +
          `drop kept the server busy ${dropSettleSeconds.toFixed(1)} s`,
      );
      return { label: choice.label, target: choice.kind, database: choice.database, figures, details: { messagesAway, wallMs: wall, syncErrors }, notes };
    } finally {
      await pool.stop();
    }
  });
}

/**
 * reconnect: K clients drop at once; meanwhile every conversation receives
 * messages; then all reconnect at once and each syncs from its last seq.
 * Measured: time until every client has every missed message, and the
 * messages missed or received twice (both must be 0).
 */
export async function runReconnect(ctx: ScenarioContext): Promise<ScenarioReport> {
  const started = performance.now();
  const { options } = ctx;
  const runs: RunResult[] = [];
  for (const choice of targetOrder(ctx)) runs.push(await reconnectOn(ctx, choice));
  const checks: GoalCheck[] = runs
    .filter((r) => r.target === "parley" && r.database)
    .map((r) => {
      const s = r.figures.caughtUpSeconds;
      return {
        goal: `reconnect: all caught up within ${GOAL_SECONDS} s, 0 missed, 0 duplicated`,
        database: r.database!,
        met: s !== null && s !== undefined && s <= GOAL_SECONDS && r.figures.missed === 0 && r.figures.duplicated === 0,
        measured: `${s === null || s === undefined ? "not all" : s.toFixed(2) + " s"}, missed ${r.figures.missed}, duplicated ${r.figures.duplicated}`,
      };
    });
  return {
    scenario: "reconnect",
    title: `reconnect — ${options.reconnectClients} clients drop at once, ${options.missed} messages per conversation while away`,
    parameters: { clients: options.reconnectClients, members: options.members, missedPerConversation: options.missed, syncLimit: 200 },
    metrics: METRICS,
    runs,
    ratios: ratiosOf(METRICS, runs),
    checks,
    tables: [comparisonTable(`reconnect (${options.reconnectClients.toLocaleString("en-US")} clients drop at once)`, METRICS, runs)],
    notes: runs.flatMap((r) => (r.notes ?? []).map((n) => `${r.label}: ${n}`)),
    elapsedSeconds: secondsSince(started),
  };
}
