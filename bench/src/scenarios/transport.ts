import { performance } from "node:perf_hooks";
import { WorkerPool } from "../load/worker-pool.js";
import type { ConnectResult, RequestItem, RequestsResult } from "../load/worker-protocol.js";
import { KB, fmt, ratio } from "../report/format.js";
import type { Metric, RunResult, ScenarioReport, Table } from "../report/report-model.js";
import { ParleyAdmin, mapLimit } from "../setup/parley-admin.js";
import { Histogram } from "../stats/histogram.js";
import type { Target } from "../targets/target.js";
import { DEFAULT_TRANSPORT, cpuPercent, type TransportSettings } from "../targets/target-spec.js";
import { idleUsers } from "./connections.js";
import { describeStep, prepareFanout, runStep } from "./fanout.js";
import { secondsSince, sleep, targetOrder, waitForQuiet, withTarget, type ScenarioContext, type TargetChoice } from "./scenario-context.js";

interface Variant {
  name: string;
  transport: TransportSettings;
}

const VARIANTS: Variant[] = [
  { name: "defaults (deflate off, first request kept)", transport: DEFAULT_TRANSPORT },
  { name: "permessage-deflate on", transport: { perMessageDeflate: true, discardRequest: false } },
  { name: "first HTTP request discarded", transport: { perMessageDeflate: false, discardRequest: true } },
];

const PAGE = 50;

const METRICS: Metric[] = [
  { key: "rssPerConnectionKb", label: "RSS per connection", unit: "KB", better: "lower", digits: 1 },
  { key: "heapPerConnectionKb", label: "JS heap per connection", unit: "KB", better: "lower", digits: 1 },
  { key: "externalPerConnectionKb", label: "external memory per connection", unit: "KB", better: "lower", digits: 1 },
  { key: "pageP50", label: "50-message page p50", unit: "ms", better: "lower", digits: 2 },
  { key: "pageP99", label: "50-message page p99", unit: "ms", better: "lower", digits: 2 },
  { key: "pageCpuMs", label: "server CPU per page", unit: "ms", better: "lower", digits: 2 },
];

/**
 * Connects `count` clients that each fetch one 50-message page (about
 * 20 KB, so permessage-deflate, when on, compresses and keeps its zlib
 * context), then reads the target's memory after a full GC.
 */
async function pageClients(ctx: ScenarioContext, choice: TargetChoice, variant: Variant, count: number): Promise<RunResult> {
  return withTarget(
    ctx,
    choice,
    async (target: Target) => {
      let conversationId = "relay-history";
      if (target.spec.kind === "parley") {
        const admin = new ParleyAdmin(target.url, ctx.apiKey);
        conversationId = await admin.createChannel("Bench transport");
        await mapLimit(Array.from({ length: PAGE }, (_, i) => i), 4, (i) =>
          admin.send(conversationId, "page-writer", `Channel message number ${i} with some ordinary chat text in it`, `page-${i}`),
        );
      }
      const workers = Math.max(1, Math.min(ctx.options.connectionWorkers, Math.ceil(count / 500)));
      const shares = idleUsers(count, workers, "t");
      const pool = await WorkerPool.start({ count: workers, url: target.url, dialect: target.spec.kind, jwtSecret: ctx.jwtSecret, logFile: ctx.logFile });
      try {
        const before = await target.stats(true);
        const connected = await pool.each<ConnectResult>("connect", (w) => ({ users: shares[w], concurrency: 25, timeoutMs: 60_000 }), 600_000);
        const n = connected.reduce((a, r) => a + r.connected, 0);
        await waitForQuiet(target, n, 30_000);
        const cpuBefore = await target.stats();
        const pages = await pool.each<RequestsResult>(
          "requests",
          (w) => ({
            items: shares[w]!.map((): RequestItem => ({ label: "page", event: "conversation:history", payload: { conversationId, limit: PAGE } })),
            concurrency: 10,
            timeoutMs: 30_000,
          }),
          600_000,
        );
        const cpuAfter = await target.stats();
        await waitForQuiet(target, n, 30_000);
        await sleep(1000);
        const after = await target.stats(true);
        const latency = Histogram.from(...pages.map((p) => p.byLabel.page?.latency ?? Histogram.from().toData()));
        const errors = pages.flatMap((p) => Object.entries(p.byLabel.page?.errors ?? {}));
        const figures = {
          rssPerConnectionKb: n > 0 ? (after.rss - before.rss) / n / KB : null,
          heapPerConnectionKb: n > 0 ? (after.heapUsed - before.heapUsed) / n / KB : null,
          externalPerConnectionKb: n > 0 ? (after.external - before.external) / n / KB : null,
          pageP50: latency.percentile(50),
          pageP99: latency.percentile(99),
          pageCpuMs: latency.count > 0 ? (cpuAfter.cpuUserMs + cpuAfter.cpuSystemMs - cpuBefore.cpuUserMs - cpuBefore.cpuSystemMs) / latency.count : null,
        };
        ctx.progress(
          `  ${choice.label}, ${variant.name}: ${n} connections, ${fmt(figures.rssPerConnectionKb)} KB RSS, ` +
            `${fmt(figures.heapPerConnectionKb)} KB heap, ${fmt(figures.externalPerConnectionKb)} KB external per connection; ` +
            `page p50 ${fmt(figures.pageP50, 2)} p99 ${fmt(figures.pageP99, 2)} ms, ${fmt(figures.pageCpuMs, 2)} ms CPU each` +
            (errors.length > 0 ? `; errors ${JSON.stringify(errors)}` : ""),
        );
        return {
          label: `${choice.label}: ${variant.name}`,
          target: choice.kind,
          database: choice.database,
          figures,
          details: { variant: variant.name, transport: variant.transport, connections: n, errors },
        };
      } finally {
        await pool.stop();
      }
    },
    { transport: variant.transport },
  );
}

/** Fanout at a fixed rate with and without the native bufferutil; CPU per delivered message. */
async function bufferutilRuns(ctx: ScenarioContext, choice: TargetChoice, dir: string): Promise<RunResult[]> {
  const out: RunResult[] = [];
  // The same load on every target, one each holds with room to spare.
  const rate = ctx.options.transportRate;
  for (const on of [false, true]) {
    const env = on ? { NODE_PATH: dir } : { WS_NO_BUFFER_UTIL: "1" };
    out.push(
      await withTarget(
        ctx,
        choice,
        async (target, database) => {
          if (target.bufferutil !== on) throw new Error(`bufferutil ${on ? "did not load from " + dir : "loaded though refused"}`);
          const rig = await prepareFanout(ctx, target, database, 400, env);
          try {
            await runStep(ctx, rig, 0, rate, 2);
            await sleep(500);
            const before = await target.stats();
            const step = await runStep(ctx, rig, 1, rate, ctx.options.stepSeconds * 2);
            const after = await target.stats();
            const cpuMs = after.cpuUserMs + after.cpuSystemMs - before.cpuUserMs - before.cpuSystemMs;
            ctx.progress(`  ${choice.label}, bufferutil ${on ? "on" : "off"}: ${describeStep(step).trim()}`);
            return {
              label: `${choice.label}: bufferutil ${on ? "on" : "off"}`,
              target: choice.kind,
              database: choice.database,
              figures: {
                rate,
                cpuPerThousandDeliveries: step.delivered > 0 ? (cpuMs / step.delivered) * 1000 : null,
                serverCpu: cpuPercent(before, after),
                p99: step.p99,
              },
              details: { step },
            };
          } finally {
            await rig.pool.stop();
          }
        },
        { env },
      ),
    );
  }
  return out;
}

/**
 * transport: the Socket.IO settings that matter for memory and CPU, each
 * measured on the relay and on Parley (first database): permessage-deflate
 * (off by default in Socket.IO 4), discarding the first HTTP request, and,
 * when given a folder that holds it, the native bufferutil.
 */
export async function runTransport(ctx: ScenarioContext): Promise<ScenarioReport> {
  const started = performance.now();
  const count = ctx.options.transportClients;
  const choices = targetOrder(ctx).filter((c) => c.kind === "relay" || c.database === ctx.databases[0]);
  const runs: RunResult[] = [];
  for (const variant of VARIANTS) for (const choice of choices) runs.push(await pageClients(ctx, choice, variant, count));

  const notes: string[] = [
    "httpCompression only compresses HTTP long-polling responses; clients here (like Parley's SDK) use WebSocket only, so it has nothing to act on.",
    "cleanupEmptyChildNamespaces frees dynamic namespaces; Parley serves only the main namespace, so it has nothing to act on.",
  ];
  const bufferRuns: RunResult[] = [];
  if (ctx.options.bufferutil) {
    for (const choice of choices) bufferRuns.push(...(await bufferutilRuns(ctx, choice, ctx.options.bufferutil)));
  } else {
    notes.push("bufferutil: not measured in this run (pass --bufferutil <node_modules folder holding it>).");
  }

  const tables: Table[] = [];
  for (const choice of choices) {
    const mine = runs.filter((r) => r.target === choice.kind && r.database === choice.database);
    const base = mine[0];
    tables.push({
      title: `transport settings, ${choice.label} (${count.toLocaleString("en-US")} connections, one ${PAGE}-message page each)`,
      columns: ["setting", ...METRICS.map((m) => `${m.label} (${m.unit})`), "RSS ÷ defaults"],
      rows: mine.map((r) => [
        (r.details as { variant: string }).variant,
        ...METRICS.map((m) => fmt(r.figures[m.key], m.digits ?? 1)),
        fmt(ratio(r.figures.rssPerConnectionKb, base?.figures.rssPerConnectionKb), 2),
      ]),
    });
  }
  if (bufferRuns.length > 0) {
    tables.push({
      title: "bufferutil (fanout at a fixed rate, 400 clients)",
      columns: ["run", "rate (msg/s)", "server CPU per 1000 deliveries (ms)", "server CPU (% of a core)", "p99 (ms)"],
      rows: bufferRuns.map((r) => [r.label, fmt(r.figures.rate, 0), fmt(r.figures.cpuPerThousandDeliveries, 1), fmt(r.figures.serverCpu, 0), fmt(r.figures.p99, 2)]),
    });
  }
  return {
    scenario: "transport",
    title: "transport settings",
    parameters: { connections: count, page: PAGE, bufferutil: ctx.options.bufferutil },
    metrics: METRICS,
    runs: [...runs, ...bufferRuns],
    ratios: {},
    checks: [],
    tables,
    notes,
    elapsedSeconds: secondsSince(started),
  };
}
