import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { parseBenchOptions } from "../src/options.js";
import { countRedisKeys } from "../src/setup/redis-keys.js";
import { Histogram } from "../src/stats/histogram.js";
import { watchStalls } from "../src/targets/target-spec.js";

const MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));

interface Results {
  reports: Array<{
    scenario: string;
    runs: Array<{ label: string; target: string; nodes?: number; figures: Record<string, number | null>; details?: unknown }>;
  }>;
}

interface StepFigures {
  sent: number;
  expected: number;
  delivered: number;
  lost: number;
  duplicated: number;
  refused: number;
  unacked: number;
}

describe("histogram", () => {
  it("gives percentiles within 1 % and merges across processes", () => {
    const a = new Histogram();
    const b = new Histogram();
    for (let i = 1; i <= 1000; i++) (i % 2 ? a : b).record(i / 10);
    const merged = Histogram.from(a.toData(), b.toData());
    expect(merged.count).toBe(1000);
    expect(merged.percentile(50)).toBeGreaterThan(50 * 0.99);
    expect(merged.percentile(50)).toBeLessThan(50 * 1.01);
    expect(merged.percentile(99)).toBeGreaterThan(99 * 0.99);
    expect(merged.percentile(99)).toBeLessThan(99 * 1.01);
    expect(merged.summary().max).toBe(100);
  });
});

describe("stall watch", () => {
  it("reports how long the event loop was held and the GC pauses, since the last reset", async () => {
    const stalls = watchStalls();
    const tick = () => new Promise((resolve) => setTimeout(resolve, 30));
    await tick();
    stalls.read(true);
    // The watch's timer counts from its first run after a reset.
    await tick();
    const t = performance.now();
    while (performance.now() - t < 80);
    // Young objects enough for several scavenges.
    const young: number[][] = [];
    for (let i = 0; i < 200_000; i++) young.push([i, i + 1]);
    young.length = 0;
    await tick();
    await tick();
    const held = stalls.read(true);
    expect(held.loopDelayMaxMs).toBeGreaterThan(60);
    expect(held.gcPauses).toBeGreaterThan(0);
    expect(held.gcPauseMaxMs).toBeGreaterThan(0);
    expect(held.gcPauseTotalMs).toBeGreaterThanOrEqual(held.gcPauseMaxMs);
    await tick();
    await tick();
    const calm = stalls.read(false);
    expect(calm.loopDelayMaxMs).toBeLessThan(60);
  });
});

describe("bench harness", () => {
  const resultsDir = mkdtempSync(path.join(os.tmpdir(), "parley-bench-test-"));
  afterAll(() => rmSync(resultsDir, { recursive: true, force: true }));

  it("runs fanout and reconnect at toy sizes against Parley on SQLite and the relay", async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        MAIN,
        "--scenario=fanout,reconnect",
        "--database=sqlite",
        "--clients=12",
        "--members=3",
        "--rate-start=30",
        "--max-steps=1",
        "--refine=0",
        "--step-seconds=0.5",
        "--rounds=2",
        "--missed=1",
        "--workers=1",
        "--connection-workers=1",
        `--results-dir=${resultsDir}`,
      ],
      { timeout: 90_000 },
    );
    expect(stdout).toContain("| metric | Parley SQLite | relay | Parley SQLite ÷ relay |");
    expect(stdout).toMatch(/\| server event loop held, longest \(ms\) \| \d/);
    const results = JSON.parse(readFileSync(path.join(resultsDir, "latest.json"), "utf8")) as Results;
    expect(results.reports.map((r) => r.scenario)).toEqual(["fanout", "reconnect"]);
    const [fanout, reconnect] = results.reports;
    for (const run of fanout!.runs) {
      expect(run.figures.lost).toBe(0);
      expect(run.figures.duplicated).toBe(0);
      expect(run.figures.deliveredPerSecond).toBeGreaterThan(0);
      // Measured twice, the columns taking turns; the figures are those of one of the two rounds.
      const details = run.details as { round: number; rounds: Array<{ round: number; figures: Record<string, number | null> }> };
      expect(details.rounds.map((r) => r.round)).toEqual([1, 2]);
      expect(details.rounds[details.round - 1]!.figures).toEqual(run.figures);
    }
    expect(stdout).toMatch(/medians of 2 rounds; by round (\d+ %|–), (\d+ %|–)/);
    // At the one rate both columns held, what a message cost each server and the generator.
    expect(stdout).toMatch(/\| server CPU per message at 30 msg\/s, the highest rate every column held \(µs\) \| [\d,]+ \| [\d,]+ \| \d+\.\d\d \|/);
    for (const run of fanout!.runs) {
      expect(run.figures.serverCpuPerMessage).toBeGreaterThan(0);
      expect(run.figures.generatorCpuPerMessage).toBeGreaterThan(0);
      expect(run.figures.databaseCpuPerMessage).toBeNull();
    }
    const parleyReconnect = reconnect!.runs.find((r) => r.target === "parley")!;
    expect(parleyReconnect.figures.caughtUp).toBe(12);
    expect(parleyReconnect.figures.missed).toBe(0);
    expect(parleyReconnect.figures.duplicated).toBe(0);
    // The relay stores nothing: every member of each of the 4 conversations misses its message.
    expect(reconnect!.runs.find((r) => r.target === "relay")!.figures.missed).toBe(12);
  }, 120_000);
});

describe("--nodes", () => {
  const parse = (args: string[]) => parseBenchOptions(args, {}, "/tmp/results");

  it("defaults to one node and leaves the default run as it was", () => {
    const options = parse([]);
    expect(options).not.toBe("help");
    if (options === "help") return;
    expect(options.nodes).toEqual([1]);
    expect(options.databases).toEqual(["sqlite", "postgres"]);
    expect(options.scenarios).toEqual(["fanout", "history", "connections", "reconnect", "transport"]);
  });

  it("takes several counts, and PostgreSQL alone when no database is named", () => {
    const options = parse(["--scenario=fanout", "--nodes=3,1"]);
    if (options === "help") throw new Error("help");
    expect(options.nodes).toEqual([1, 3]);
    expect(options.databases).toEqual(["postgres"]);
  });

  it("refuses SQLite, and other scenarios, with more than one node", () => {
    expect(() => parse(["--scenario=fanout", "--database=sqlite", "--nodes=3"])).toThrow(/need PostgreSQL.*--database postgres/);
    expect(() => parse(["--scenario=fanout", "--database=both", "--nodes=1,2"])).toThrow(/need PostgreSQL/);
    expect(() => parse(["--nodes=3"])).toThrow(/fanout scenario only/);
    expect(() => parse(["--scenario=fanout", "--nodes=0"])).toThrow(/positive whole number/);
  });
});

describe("bench harness, many nodes", () => {
  const databaseUrl = process.env.PARLEY_TEST_DATABASE_URL;
  const redisUrl = process.env.PARLEY_TEST_REDIS_URL;
  const missing = [databaseUrl ? null : "PARLEY_TEST_DATABASE_URL", redisUrl ? null : "PARLEY_TEST_REDIS_URL"].filter(Boolean);
  if (missing.length > 0) {
    process.stdout.write(`skipped: the multi-node fanout smoke test needs PostgreSQL and Redis (${missing.join(" and ")} not set)\n`);
  }
  const resultsDir = mkdtempSync(path.join(os.tmpdir(), "parley-bench-nodes-test-"));
  afterAll(() => rmSync(resultsDir, { recursive: true, force: true }));

  it.skipIf(missing.length > 0)(
    "spreads 20 clients over 2 Parley nodes sharing PostgreSQL and Redis, and delivers every message once",
    async () => {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [
          MAIN,
          "--scenario=fanout",
          "--database=postgres",
          `--postgres-url=${databaseUrl}`,
          `--redis-url=${redisUrl}`,
          "--nodes=2",
          "--no-relay",
          "--clients=20",
          "--members=4",
          "--rate-start=20",
          "--max-steps=2",
          "--refine=0",
          "--retries=0",
          "--rounds=1",
          "--step-seconds=0.5",
          // Loose: this checks delivery across nodes, not latency on a busy machine.
          "--p99-limit=2000",
          "--workers=1",
          `--results-dir=${resultsDir}`,
        ],
        { timeout: 60_000 },
      );
      expect(stdout).toContain("| metric | Parley PostgreSQL, 2 nodes |");
      const results = JSON.parse(readFileSync(path.join(resultsDir, "latest.json"), "utf8")) as Results;
      const run = results.reports[0]!.runs[0]!;
      expect(run.nodes).toBe(2);
      const details = run.details as { clientsPerNode: number[]; redisPrefix: string; steps: StepFigures[] };
      // Round-robin: each conversation of 4 has members on both nodes.
      expect(details.clientsPerNode).toEqual([10, 10]);
      expect(details.steps).toHaveLength(2);
      for (const step of details.steps) {
        expect(step.sent).toBeGreaterThan(0);
        expect(step.refused).toBe(0);
        expect(step.unacked).toBe(0);
        // Every member of the conversation, the sender included, once.
        expect(step.expected).toBe(step.sent * 4);
        expect(step.delivered).toBe(step.expected);
        expect(step.lost).toBe(0);
        expect(step.duplicated).toBe(0);
      }
      expect(run.figures.lost).toBe(0);
      expect(run.figures.duplicated).toBe(0);
      // The run's Redis keys are gone with it.
      expect(details.redisPrefix).toMatch(/^parley-bench-/);
      expect(await countRedisKeys(redisUrl!, details.redisPrefix)).toBe(0);
    },
    75_000,
  );
});
