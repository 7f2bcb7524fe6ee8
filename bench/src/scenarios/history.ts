import { performance } from "node:perf_hooks";
import { WorkerPool } from "../load/worker-pool.js";
import type { ConnectResult, RequestItem, RequestsResult, SimUser } from "../load/worker-protocol.js";
import { comparisonTable, ratiosOf } from "../report/format.js";
import type { GoalCheck, Metric, RunResult, ScenarioReport } from "../report/report-model.js";
import { seedHistory, waitForSearchIndex, type SeedResult } from "../setup/history-seed.js";
import { ParleyAdmin } from "../setup/parley-admin.js";
import { Histogram } from "../stats/histogram.js";
import { secondsSince, targetOrder, withTarget, type ScenarioContext, type TargetChoice } from "./scenario-context.js";

const PAGE = 50;
/** Readers share the requests so that none nears the per-user limit of 100 events/s. */
const READERS = 20;
const DEPTHS = ["newest", "middle", "oldest", "sync"] as const;
type Depth = (typeof DEPTHS)[number];
const GOAL_MS = 5;
const DEPTH_LABEL: Record<Depth, string> = {
  newest: "page at the newest end",
  middle: "page in the middle",
  oldest: "page at the oldest end",
  sync: "sync from an old seq",
};

const METRICS: Metric[] = [
  ...DEPTHS.flatMap((d): Metric[] => [
    { key: `${d}P50`, label: `${DEPTH_LABEL[d]} p50`, unit: "ms", better: "lower", digits: 2 },
    { key: `${d}P99`, label: `${DEPTH_LABEL[d]} p99`, unit: "ms", better: "lower", digits: 2 },
  ]),
  { key: "caughtUpConnectMs", label: `slowest connect of the ${READERS} caught-up members`, unit: "ms", better: "lower", digits: 1 },
  { key: "unreadConnectMs", label: "connect of a member with every message unread", unit: "ms", better: "lower", digits: 1 },
  { key: "seedSeconds", label: "bulk seed", unit: "s", better: "none", digits: 1 },
  { key: "indexCatchUpSeconds", label: "search index caught up, after the seed", unit: "s", better: "lower", digits: 1 },
];

const randInt = (lo: number, hi: number) => lo + Math.floor(Math.random() * (hi - lo + 1));

function itemFor(depth: Depth, conversationId: string, messages: number): RequestItem {
  switch (depth) {
    case "newest":
      return { label: depth, event: "conversation:history", payload: { conversationId, limit: PAGE } };
    case "middle": {
      const mid = Math.floor(messages / 2);
      const spread = Math.min(5000, Math.floor(messages / 10));
      return { label: depth, event: "conversation:history", payload: { conversationId, beforeSeq: randInt(mid - spread, mid + spread), limit: PAGE } };
    }
    case "oldest":
      return { label: depth, event: "conversation:history", payload: { conversationId, beforeSeq: randInt(PAGE + 1, PAGE + 1000), limit: PAGE } };
    case "sync":
      return { label: depth, event: "conversation:sync", payload: { conversationId, afterSeq: randInt(0, 1000), limit: PAGE } };
  }
}

function shuffled<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

async function historyOn(ctx: ScenarioContext, choice: TargetChoice): Promise<RunResult> {
  const { options } = ctx;
  return withTarget(ctx, choice, async (target, database) => {
    const readers = Array.from({ length: READERS }, (_, i) => `reader${i}`);
    let conversationId = "relay-history";
    let seed: SeedResult | null = null;
    let seededAt = performance.now();
    if (target.spec.kind === "parley" && database) {
      const admin = new ParleyAdmin(target.url, ctx.apiKey);
      conversationId = await admin.createGroup([...readers, "unread-reader"], "Bench history");
      ctx.progress(`  ${choice.label}: seeding ${options.messages.toLocaleString("en-US")} messages in batches of ${options.seedBatch}`);
      seed = await seedHistory(database, { conversationId, messages: options.messages, batch: options.seedBatch, caughtUp: readers, senders: readers });
      seededAt = performance.now();
      ctx.progress(`    seeded in ${(seed.elapsedMs / 1000).toFixed(1)} s`);
    } else {
      ctx.progress(`  ${choice.label}: a canned page of ${PAGE} from memory`);
    }
    const pool = await WorkerPool.start({ count: 1, url: target.url, dialect: target.spec.kind, jwtSecret: ctx.jwtSecret, logFile: ctx.logFile });
    try {
      const users: SimUser[] = readers.map((userId) => ({ userId, conversations: [conversationId] }));
      const [connected] = await pool.all<ConnectResult>("connect", { users, concurrency: 5, timeoutMs: 30_000 }, 120_000);
      if (!connected || connected.failed > 0) throw new Error(`readers could not connect: ${JSON.stringify(connected?.errors)}`);
      const caughtUpConnectMs = target.spec.kind === "parley" ? Histogram.from(connected.latency).summary().max : null;
      // SQLite indexes the seed's text for search a batch at a time, other
      // work running between batches; pages are sampled once it is done, as
      // they would be on a server some seconds after such a load.
      const indexWaitMs = database && target.spec.kind === "parley" ? await waitForSearchIndex(database, seededAt, 300_000) : null;

      const warm = DEPTHS.flatMap((d) => Array.from({ length: 20 }, () => itemFor(d, conversationId, options.messages)));
      await pool.all<RequestsResult>("requests", { items: shuffled(warm), concurrency: 1, timeoutMs: 30_000 }, 600_000);
      const items = shuffled(DEPTHS.flatMap((d) => Array.from({ length: options.samples }, () => itemFor(d, conversationId, options.messages))));
      const started = performance.now();
      const [measured] = await pool.all<RequestsResult>("requests", { items, concurrency: 1, timeoutMs: 30_000 }, 900_000);
      const elapsed = performance.now() - started;

      const figures: Record<string, number | null> = {};
      const notes: string[] = [];
      for (const d of DEPTHS) {
        const r = measured?.byLabel[d];
        const h = r ? Histogram.from(r.latency) : new Histogram();
        figures[`${d}P50`] = h.count > 0 ? h.percentile(50) : null;
        figures[`${d}P99`] = h.count > 0 ? h.percentile(99) : null;
        const errors = Object.entries(r?.errors ?? {});
        if (errors.length > 0) notes.push(`${d}: errors ${JSON.stringify(r?.errors)}`);
        if (r && r.messages !== h.count * PAGE) notes.push(`${d}: ${r.messages} messages in ${h.count} pages (expected ${PAGE} each)`);
      }
      figures.seedSeconds = seed ? seed.elapsedMs / 1000 : null;
      figures.caughtUpConnectMs = caughtUpConnectMs;
      figures.indexCatchUpSeconds = indexWaitMs == null ? null : indexWaitMs / 1000;

      figures.unreadConnectMs = null;
      if (target.spec.kind === "parley") {
        const [unread] = await pool.all<ConnectResult>(
          "connect",
          { users: [{ userId: "unread-reader", conversations: [conversationId] }], concurrency: 1, timeoutMs: 60_000 },
          90_000,
        );
        if (unread && unread.connected > 0 && unread.failed === 0) figures.unreadConnectMs = Histogram.from(unread.latency).summary().max;
        else notes.push(`a member with every message unread could not connect: ${JSON.stringify(unread?.errors)}`);
      }
      ctx.progress(
        `    ${DEPTHS.map((d) => `${d} p50 ${figures[`${d}P50`]?.toFixed(2)} p99 ${figures[`${d}P99`]?.toFixed(2)}`).join(", ")} ms` +
          ` (${items.length} requests in ${(elapsed / 1000).toFixed(1)} s)` +
          (caughtUpConnectMs != null ? `; caught-up members connect in at most ${caughtUpConnectMs.toFixed(0)} ms` : "") +
          (indexWaitMs != null ? `; search index caught up ${(indexWaitMs / 1000).toFixed(1)} s after the seed` : "") +
          (figures.unreadConnectMs != null ? `; connect with ${options.messages} unread ${figures.unreadConnectMs.toFixed(0)} ms` : ""),
      );
      return { label: choice.label, target: choice.kind, database: choice.database, figures, details: { seed, requests: items.length }, notes };
    } finally {
      await pool.stop();
    }
  });
}

/**
 * history: one conversation of `messages` messages seeded in bulk through
 * SQL; p50/p99 of a 50-message page at the newest end, the middle and the
 * oldest end, and of `conversation:sync` from an old seq, one request at a
 * time. The relay answers the same requests with a page from memory: the
 * transport's share of the time.
 */
export async function runHistory(ctx: ScenarioContext): Promise<ScenarioReport> {
  const started = performance.now();
  const { options } = ctx;
  const runs: RunResult[] = [];
  for (const choice of targetOrder(ctx)) runs.push(await historyOn(ctx, choice));
  const checks: GoalCheck[] = runs
    .filter((r) => r.target === "parley" && r.database)
    .map((r) => {
      const worst = Math.max(...DEPTHS.map((d) => r.figures[`${d}P99`] ?? Infinity));
      return {
        goal: `history: p99 < ${GOAL_MS} ms at every depth`,
        database: r.database!,
        met: worst < GOAL_MS,
        measured: DEPTHS.map((d) => `${d} ${(r.figures[`${d}P99`] ?? NaN).toFixed(2)}`).join(", ") + " ms",
      };
    });
  return {
    scenario: "history",
    title: `history — ${options.messages.toLocaleString("en-US")} messages, pages of ${PAGE}`,
    parameters: { messages: options.messages, seedBatch: options.seedBatch, samples: options.samples, page: PAGE, readers: READERS },
    metrics: METRICS,
    runs,
    ratios: ratiosOf(METRICS, runs),
    checks,
    tables: [comparisonTable(`history (${options.messages.toLocaleString("en-US")} messages, ${options.samples} requests per depth)`, METRICS, runs)],
    notes: runs.flatMap((r) => (r.notes ?? []).map((n) => `${r.label}: ${n}`)),
    elapsedSeconds: secondsSince(started),
  };
}
