#!/usr/bin/env node
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseBenchOptions, USAGE, type BenchOptions, type ScenarioName } from "./options.js";
import { killAllChildren } from "./process/children.js";
import { markdown } from "./report/format.js";
import type { ScenarioReport } from "./report/report-model.js";
import { postgresProblem, type DatabaseKind } from "./setup/fresh-database.js";
import { redisProblem } from "./setup/redis-keys.js";
import { runConnections } from "./scenarios/connections.js";
import { runFanout } from "./scenarios/fanout.js";
import { runHistory } from "./scenarios/history.js";
import { runReconnect } from "./scenarios/reconnect.js";
import type { ScenarioContext } from "./scenarios/scenario-context.js";
import { runTransport } from "./scenarios/transport.js";

const BENCH_DIR = fileURLToPath(new URL("..", import.meta.url));

const RUNNERS: Record<ScenarioName, (ctx: ScenarioContext) => Promise<ScenarioReport>> = {
  fanout: runFanout,
  history: runHistory,
  connections: runConnections,
  reconnect: runReconnect,
  transport: runTransport,
};

/** The machine a run came from: figures mean little without it. */
function machine() {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? "unknown",
    memoryGb: Math.round(os.totalmem() / 1024 ** 3),
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

function progress(line: string): void {
  process.stderr.write(line + "\n");
}

async function main(): Promise<void> {
  let parsed: BenchOptions | "help";
  try {
    parsed = parseBenchOptions(process.argv.slice(2), process.env, path.join(BENCH_DIR, "results"));
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n\n${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  if (parsed === "help") {
    process.stdout.write(USAGE + "\n");
    return;
  }
  const options = parsed;

  const databases: DatabaseKind[] = [];
  const notes: string[] = [];
  for (const db of options.databases) {
    if (db === "postgres") {
      const problem = await postgresProblem(options.postgresUrl);
      if (problem) {
        const note = `skipped: PostgreSQL at ${options.postgresUrl} does not answer (${problem}); pass --database sqlite to run without it`;
        progress(note);
        notes.push(note);
        continue;
      }
    }
    databases.push(db);
  }
  if (options.nodes.some((n) => n > 1)) {
    const problem = await redisProblem(options.redisUrl);
    if (problem) {
      process.stderr.write(`bench: --nodes ${options.nodes.join(",")} needs Redis, and Redis at ${options.redisUrl} does not answer (${problem}); pass --redis-url\n`);
      process.exitCode = 2;
      return;
    }
  }

  const runId = new Date().toISOString().replace(/[:.]/g, "-");
  mkdirSync(options.resultsDir, { recursive: true });
  const logDir = path.join(options.resultsDir, "logs");
  const profileDir = path.join(options.resultsDir, "profiles");
  mkdirSync(logDir, { recursive: true });
  if (options.profile) mkdirSync(profileDir, { recursive: true });
  const workDir = mkdtempSync(path.join(os.tmpdir(), "parley-bench-"));
  const ctx: ScenarioContext = {
    options,
    runId,
    workDir,
    logFile: path.join(logDir, `${runId}.log`),
    profileDir,
    jwtSecret: randomBytes(32).toString("hex"),
    apiKey: `pk_bench_${randomBytes(16).toString("hex")}`,
    databases,
    progress,
  };

  const startedAt = new Date().toISOString();
  // Other work on a shared machine moves every figure: its load is kept from both ends of the run.
  const loadAverageAtStart = os.loadavg().map((l) => Math.round(l * 100) / 100);
  const reports: ScenarioReport[] = [];
  const resultFile = path.join(options.resultsDir, `${runId}.json`);
  const save = () => {
    const body = JSON.stringify({ runId, startedAt, finishedAt: new Date().toISOString(), machine: { ...machine(), loadAverageAtStart }, options, notes, reports }, null, 2);
    writeFileSync(resultFile, body + "\n");
    writeFileSync(path.join(options.resultsDir, "latest.json"), body + "\n");
  };

  const nodesText = options.nodes.length === 1 && options.nodes[0] === 1 ? "" : ` with ${options.nodes.join(" and ")} Parley nodes`;
  progress(`Parley bench ${runId}: ${options.scenarios.join(", ")} on ${databases.join(", ") || "no database"}${nodesText}${options.noRelay ? "" : " and the relay"}`);
  progress(`  machine: ${JSON.stringify(machine())}`);
  let failed = false;
  try {
    for (const scenario of options.scenarios) {
      progress(`\n${scenario}`);
      try {
        const report = await RUNNERS[scenario](ctx);
        reports.push(report);
        save();
        for (const table of report.tables) process.stdout.write("\n" + markdown(table) + "\n");
        for (const note of report.notes) process.stdout.write(`\n- ${note}`);
        if (report.notes.length > 0) process.stdout.write("\n");
      } catch (err) {
        failed = true;
        const message = `${scenario} failed: ${(err as Error).stack ?? String(err)}`;
        progress(message);
        notes.push(message);
        save();
      }
    }
  } finally {
    killAllChildren();
    rmSync(workDir, { recursive: true, force: true });
  }

  const checks = reports.flatMap((r) => r.checks);
  if (checks.length > 0) {
    process.stdout.write(
      "\n" +
        markdown({
          title: "Targets",
          columns: ["goal", "database", "met", "measured"],
          rows: checks.map((c) => [c.goal, c.database, c.met ? "yes" : "NO", c.measured]),
        }) +
        "\n",
    );
  }
  save();
  process.stdout.write(`\nResults: ${path.relative(process.cwd(), resultFile) || resultFile} (also latest.json); logs: ${path.relative(process.cwd(), ctx.logFile)}\n`);
  if (failed) process.exitCode = 1;
}

main().catch((err: unknown) => {
  killAllChildren();
  process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
