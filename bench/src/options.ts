import { parseArgs } from "node:util";
import type { DatabaseKind } from "./setup/fresh-database.js";

export const SCENARIOS = ["fanout", "history", "connections", "reconnect", "transport"] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

/** Everything a bench run can be told, each with the default `npm run bench` uses. */
export interface BenchOptions {
  scenarios: ScenarioName[];
  /** Databases Parley runs on, in this order. @default ["sqlite", "postgres"] */
  databases: DatabaseKind[];
  /** An existing PostgreSQL database used only to create and drop a fresh one per scenario. */
  postgresUrl: string;
  /** Leave the relay out (its figures and the ratios). @default false */
  noRelay: boolean;
  /**
   * fanout: Parley node counts to measure, one column each. Above 1 the
   * nodes share one PostgreSQL database and one Redis. @default [1]
   */
  nodes: number[];
  /** Redis the nodes share when `nodes` has a count above 1. */
  redisUrl: string;

  /** fanout: simulated users. @default 1000 */
  fanoutClients: number;
  /** fanout and reconnect: members per conversation. @default 4 */
  members: number;
  /**
   * fanout: first send rate, messages/s over all clients. Low, so that a
   * server that holds only a few hundred messages/s still gets a figure.
   * @default 100
   */
  rateStart: number;
  /** fanout: each step multiplies the rate by this. @default 1.5 */
  rateFactor: number;
  /** fanout: most rate steps before stopping (the last rate counts as sustained). @default 12 */
  maxSteps: number;
  /** fanout: bisections between the last rate that held and the first that did not. @default 2 */
  refine: number;
  /** fanout: times a rate that did not hold is tried again before it counts as not held. @default 1 */
  retries: number;
  /**
   * fanout: times every column is measured, in turn (the second round in
   * reverse order, and so on); each column reports its round with the
   * median sustained rate. @default 3
   */
  rounds: number;
  /** fanout: seconds of sending per step. @default 3 */
  stepSeconds: number;
  /** fanout: a step holds while p99 send→receive latency stays at or under this. @default 50 */
  p99LimitMs: number;
  /** fanout: bytes of text per message. @default 64 */
  textBytes: number;

  /** history: messages in the conversation. @default 1000000 */
  messages: number;
  /** history: rows per INSERT batch while seeding. @default 50000 */
  seedBatch: number;
  /** history: requests measured per depth. @default 1000 */
  samples: number;

  /** connections: idle authenticated connections. @default 10000 */
  connections: number;
  /** reconnect: clients that drop at once. @default 5000 */
  reconnectClients: number;
  /** reconnect: messages each conversation receives while its members are away. @default 2 */
  missed: number;
  /** reconnect: longest wait for every client to catch up, seconds. @default 60 */
  reconnectTimeout: number;

  /** transport: connections per setting. @default 2000 */
  transportClients: number;
  /** transport: a node_modules folder holding bufferutil, to measure it against plain JavaScript. */
  bufferutil: string | null;
  /** transport: fixed send rate for the bufferutil comparison. @default 1000 */
  transportRate: number;

  /** Load-generator processes for fanout and history. @default 2 */
  workers: number;
  /** Load-generator processes for connections and reconnect. @default 4 */
  connectionWorkers: number;
  /** CPU-profile Parley during a fanout step at its sustained rate, a connect burst and a reconnect storm. @default false */
  profile: boolean;
  /** Where results go. @default bench/results */
  resultsDir: string;
}

export const USAGE = `Usage: npm run bench -- [options]      (or: node bench/dist/main.js [options])

Scenarios (default: all of ${SCENARIOS.join(", ")}):
  --scenario <name>          run only this scenario; repeat or comma-separate for several
  --database <db>            sqlite, postgres or both (default both, or postgres with --nodes above 1;
                             PostgreSQL is skipped with a note when it does not answer)
  --postgres-url <url>       admin connection used to create and drop a database per scenario
                             (default $PARLEY_BENCH_POSTGRES_URL or postgres://postgres@127.0.0.1:5432/test)
  --no-relay                 skip the bare Socket.IO relay baseline (no ratios)
  --nodes <n>[,<n>…]         fanout only: Parley nodes per column (1); above 1 the nodes share one
                             PostgreSQL database and one Redis, clients spread over them in turn;
                             e.g. --scenario fanout --database postgres --nodes 1,3
  --redis-url <url>          Redis for --nodes above 1 (default $PARLEY_BENCH_REDIS_URL or
                             redis://127.0.0.1:6379); keys go under a prefix of the run's own, removed after

Sizes:
  --clients <n>              users in every selected scenario (overrides the per-scenario defaults below)
  --fanout-clients <n>       fanout users (1000)
  --members <m>              members per conversation in fanout and reconnect (4)
  --rate-start <r>           first fanout rate in messages/s (100)
  --rate-factor <f>          rate multiplier per step (1.5)
  --max-steps <n>            most fanout steps (14), then --refine <n> bisections (2)
  --step-seconds <s>         sending time per step (3)
  --retries <n>              times a rate that did not hold is tried again before it counts (1)
  --rounds <n>               fanout: times each column is measured, the columns taking turns (3);
                             each reports its round with the median sustained rate
  --p99-limit <ms>           a step holds while p99 stays at or under this (50)
  --text-bytes <n>           bytes of text per fanout message, everyday words (64)
  --messages <n>             history: messages in the conversation (1000000)
  --samples <n>              history: requests per depth (1000)
  --seed-batch <n>           history: rows per INSERT while seeding (50000)
  --connections <n>          idle connections (10000)
  --reconnect-clients <n>    clients that drop at once (5000); --missed <k> messages each
                             conversation gets meanwhile (2); --reconnect-timeout <s> longest wait (60)
  --transport-clients <n>    connections per transport setting (2000)
  --bufferutil <dir>         node_modules folder holding bufferutil, to measure it (not installed by Parley)
  --transport-rate <r>       fixed fanout rate of the bufferutil comparison (1000)
  --workers <n>              load-generator processes for fanout and history (2)
  --connection-workers <n>   load-generator processes for connections and reconnect (4)

Output:
  --profile                  write CPU profiles of Parley (fanout step, connect burst, reconnect storm)
                             and print where the time goes
  --results-dir <dir>        where JSON results go (bench/results)
  --help`;

function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive whole number`);
  return n;
}

function positiveNumber(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number`);
  return n;
}

/** Parses the command line; throws with a one-line message on anything it does not understand. */
export function parseBenchOptions(argv: string[], env: Record<string, string | undefined>, defaultResultsDir: string): BenchOptions | "help" {
  const { values } = parseArgs({
    args: argv,
    allowPositionals: false,
    options: {
      scenario: { type: "string", multiple: true },
      database: { type: "string" },
      "postgres-url": { type: "string" },
      "no-relay": { type: "boolean", default: false },
      nodes: { type: "string" },
      "redis-url": { type: "string" },
      clients: { type: "string" },
      "fanout-clients": { type: "string" },
      members: { type: "string" },
      "rate-start": { type: "string" },
      "rate-factor": { type: "string" },
      "max-steps": { type: "string" },
      refine: { type: "string" },
      "step-seconds": { type: "string" },
      retries: { type: "string" },
      rounds: { type: "string" },
      "p99-limit": { type: "string" },
      "text-bytes": { type: "string" },
      messages: { type: "string" },
      "seed-batch": { type: "string" },
      samples: { type: "string" },
      connections: { type: "string" },
      "reconnect-clients": { type: "string" },
      missed: { type: "string" },
      "reconnect-timeout": { type: "string" },
      "transport-clients": { type: "string" },
      "transport-rate": { type: "string" },
      bufferutil: { type: "string" },
      workers: { type: "string" },
      "connection-workers": { type: "string" },
      profile: { type: "boolean", default: false },
      "results-dir": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) return "help";

  const requested = (values.scenario ?? []).flatMap((s) => s.split(",")).map((s) => s.trim()).filter(Boolean);
  for (const s of requested) {
    if (!(SCENARIOS as readonly string[]).includes(s) && s !== "all") {
      throw new Error(`--scenario: unknown scenario "${s}" (one of ${SCENARIOS.join(", ")}, all)`);
    }
  }
  const scenarios =
    requested.length === 0 || requested.includes("all") ? [...SCENARIOS] : SCENARIOS.filter((s) => requested.includes(s));

  const nodes = [...new Set((values.nodes ?? "1").split(",").map((n) => positiveInt("nodes", n.trim(), 1)))].sort((a, b) => a - b);
  const most = nodes[nodes.length - 1]!;
  // With many nodes and no --database, PostgreSQL alone: a SQLite file cannot be shared.
  const database = values.database ?? (most > 1 ? "postgres" : "both");
  const databases: DatabaseKind[] =
    database === "both" ? ["sqlite", "postgres"] : database === "sqlite" || database === "postgres" ? [database] : [];
  if (databases.length === 0) throw new Error('--database must be "sqlite", "postgres" or "both"');
  if (most > 1) {
    if (scenarios.some((s) => s !== "fanout")) {
      throw new Error(`--nodes ${nodes.join(",")}: many nodes are measured by the fanout scenario only; pass --scenario fanout`);
    }
    if (databases.includes("sqlite")) {
      throw new Error(
        `--nodes ${nodes.join(",")}: ${most} Parley nodes need PostgreSQL (a SQLite file belongs to one process, and Parley refuses SQLite with Redis); pass --database postgres`,
      );
    }
  }

  const clients = values.clients === undefined ? undefined : positiveInt("clients", values.clients, 1);
  const members = positiveInt("members", values.members, 4);
  if (members < 2) throw new Error("--members must be at least 2");
  const rateFactor = positiveNumber("rate-factor", values["rate-factor"], 1.5);
  if (rateFactor <= 1) throw new Error("--rate-factor must be greater than 1");
  const messages = positiveInt("messages", values.messages, 1_000_000);
  if (messages < 2000) throw new Error("--messages must be at least 2000 (pages at three depths)");

  return {
    scenarios,
    databases,
    postgresUrl: values["postgres-url"] ?? env.PARLEY_BENCH_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test",
    noRelay: values["no-relay"] ?? false,
    nodes,
    redisUrl: values["redis-url"] ?? env.PARLEY_BENCH_REDIS_URL ?? "redis://127.0.0.1:6379",
    fanoutClients: clients ?? positiveInt("fanout-clients", values["fanout-clients"], 1000),
    members,
    rateStart: positiveNumber("rate-start", values["rate-start"], 100),
    rateFactor,
    maxSteps: positiveInt("max-steps", values["max-steps"], 14),
    refine: values.refine === "0" ? 0 : positiveInt("refine", values.refine, 2),
    retries: values.retries === "0" ? 0 : positiveInt("retries", values.retries, 1),
    rounds: positiveInt("rounds", values.rounds, 3),
    stepSeconds: positiveNumber("step-seconds", values["step-seconds"], 3),
    p99LimitMs: positiveNumber("p99-limit", values["p99-limit"], 50),
    textBytes: positiveInt("text-bytes", values["text-bytes"], 64),
    messages,
    seedBatch: positiveInt("seed-batch", values["seed-batch"], 50_000),
    samples: positiveInt("samples", values.samples, 1000),
    connections: clients ?? positiveInt("connections", values.connections, 10_000),
    reconnectClients: clients ?? positiveInt("reconnect-clients", values["reconnect-clients"], 5000),
    missed: positiveInt("missed", values.missed, 2),
    reconnectTimeout: positiveNumber("reconnect-timeout", values["reconnect-timeout"], 60),
    transportClients: clients ?? positiveInt("transport-clients", values["transport-clients"], 2000),
    bufferutil: values.bufferutil ?? null,
    transportRate: positiveNumber("transport-rate", values["transport-rate"], 1000),
    workers: positiveInt("workers", values.workers, 2),
    connectionWorkers: positiveInt("connection-workers", values["connection-workers"], 4),
    profile: values.profile ?? false,
    resultsDir: values["results-dir"] ?? defaultResultsDir,
  };
}
