import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { Histogram } from "../src/stats/histogram.js";

const MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));

interface Results {
  reports: Array<{
    scenario: string;
    runs: Array<{ label: string; target: string; figures: Record<string, number | null> }>;
  }>;
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
        "--missed=1",
        "--workers=1",
        "--connection-workers=1",
        `--results-dir=${resultsDir}`,
      ],
      { timeout: 90_000 },
    );
    expect(stdout).toContain("| metric | Parley SQLite | relay | Parley SQLite ÷ relay |");
    const results = JSON.parse(readFileSync(path.join(resultsDir, "latest.json"), "utf8")) as Results;
    expect(results.reports.map((r) => r.scenario)).toEqual(["fanout", "reconnect"]);
    const [fanout, reconnect] = results.reports;
    for (const run of fanout!.runs) {
      expect(run.figures.lost).toBe(0);
      expect(run.figures.duplicated).toBe(0);
      expect(run.figures.deliveredPerSecond).toBeGreaterThan(0);
    }
    const parleyReconnect = reconnect!.runs.find((r) => r.target === "parley")!;
    expect(parleyReconnect.figures.caughtUp).toBe(12);
    expect(parleyReconnect.figures.missed).toBe(0);
    expect(parleyReconnect.figures.duplicated).toBe(0);
    // The relay stores nothing: every member of each of the 4 conversations misses its message.
    expect(reconnect!.runs.find((r) => r.target === "relay")!.figures.missed).toBe(12);
  }, 120_000);
});
