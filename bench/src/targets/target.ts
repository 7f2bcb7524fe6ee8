import { fileURLToPath } from "node:url";
import { spawnChild, stopChild } from "../process/children.js";
import type { RpcClient } from "../process/rpc.js";
import type { ProcessStats, Stalls, TargetSpec } from "./target-spec.js";

const TARGET_MODULE = fileURLToPath(new URL("./target-main.js", import.meta.url));

/** A server under test in its own process, as the bench sees it. */
export interface Target {
  readonly spec: TargetSpec;
  /** The (first) node's URL: REST setup goes here. */
  readonly url: string;
  /** Every node's URL; clients are spread over them in turn. One for a single process. */
  readonly urls: readonly string[];
  readonly pid: number;
  /** Whether ws in the target loads the native bufferutil. */
  readonly bufferutil: boolean;
  /** Memory and CPU of the target process (summed over every node); with `gc`, after a full collection. */
  stats(gc?: boolean): Promise<ProcessStats>;
  /** The same per node, in the order of `urls`. */
  nodeStats(gc?: boolean): Promise<ProcessStats[]>;
  /**
   * What stalled the target's event loop since the last reset; `reset` starts
   * anew. With several nodes, the longest delays and pauses of any node, and
   * the pauses' count and time summed over them.
   */
  stalls(reset?: boolean): Promise<Stalls>;
  /** Starts V8's sampling profiler inside the target. */
  profileStart(): Promise<void>;
  /** Stops it and writes the `.cpuprofile` to `file`. */
  profileStop(file: string): Promise<void>;
  stop(): Promise<void>;
}

export interface StartTargetOptions {
  logFile?: string;
  env?: Record<string, string | undefined>;
}

/** Starts Parley or the relay in a child process and waits until it listens. */
export async function startTarget(spec: TargetSpec, options: StartTargetOptions = {}): Promise<Target> {
  const rpc: RpcClient = spawnChild({
    name: spec.kind === "parley" ? "Parley" : "relay",
    module: TARGET_MODULE,
    execArgv: ["--expose-gc", ...(process.env.BENCH_TARGET_NODE_ARGS ?? "").split(" ").filter(Boolean)],
    env: { ...options.env, PARLEY_BENCH_TARGET: JSON.stringify(spec) },
    ...(options.logFile ? { logFile: options.logFile } : {}),
  });
  const ready = rpc.notice<{ url: string; bufferutil: boolean }>("ready", 60_000);
  const failed = rpc.notice<{ message: string }>("failed", 60_000).then((f) => {
    throw new Error(`${rpc.name} did not start: ${f.message}`);
  });
  failed.catch(() => undefined);
  let started: { url: string; bufferutil: boolean };
  try {
    started = await Promise.race([ready, failed]);
  } catch (err) {
    await stopChild(rpc, 2000);
    throw err;
  }
  const stats = (gc = false) => rpc.call<ProcessStats>("stats", { gc }, 30_000);
  return {
    spec,
    url: started.url,
    urls: [started.url],
    bufferutil: started.bufferutil,
    pid: rpc.child.pid ?? 0,
    stats,
    nodeStats: async (gc = false) => [await stats(gc)],
    stalls: (reset = false) => rpc.call<Stalls>("stalls", { reset }, 10_000),
    profileStart: async () => {
      await rpc.call("profileStart", {}, 10_000);
    },
    profileStop: async (file) => {
      await rpc.call("profileStop", { file }, 60_000);
    },
    stop: () => stopChild(rpc, 15_000),
  };
}

/**
 * Several Parley nodes seen as one target: `stats` sums memory, CPU time and
 * connections over the nodes (so CPU is % of one core over all of them and
 * RSS is the total), the sample time is the latest of theirs. Profiling
 * covers the first node only.
 */
export function combineTargets(nodes: Target[]): Target {
  const first = nodes[0];
  if (!first) throw new Error("no nodes to combine");
  if (nodes.length === 1) return first;
  const nodeStats = (gc = false) => Promise.all(nodes.map((n) => n.stats(gc)));
  return {
    spec: first.spec,
    url: first.url,
    urls: nodes.map((n) => n.url),
    pid: first.pid,
    bufferutil: nodes.every((n) => n.bufferutil),
    nodeStats,
    stats: async (gc = false) => {
      const all = await nodeStats(gc);
      const sum = (f: (s: ProcessStats) => number) => all.reduce((a, s) => a + f(s), 0);
      return {
        at: Math.max(...all.map((s) => s.at)),
        rss: sum((s) => s.rss),
        heapUsed: sum((s) => s.heapUsed),
        heapTotal: sum((s) => s.heapTotal),
        external: sum((s) => s.external),
        arrayBuffers: sum((s) => s.arrayBuffers),
        cpuUserMs: sum((s) => s.cpuUserMs),
        cpuSystemMs: sum((s) => s.cpuSystemMs),
        connections: sum((s) => s.connections),
      };
    },
    stalls: async (reset = false) => {
      const all = await Promise.all(nodes.map((n) => n.stalls(reset)));
      const most = (f: (s: Stalls) => number) => Math.max(...all.map(f));
      return {
        loopDelayP99Ms: most((s) => s.loopDelayP99Ms),
        loopDelayMaxMs: most((s) => s.loopDelayMaxMs),
        gcPauses: all.reduce((a, s) => a + s.gcPauses, 0),
        gcPauseMaxMs: most((s) => s.gcPauseMaxMs),
        gcPauseTotalMs: all.reduce((a, s) => a + s.gcPauseTotalMs, 0),
      };
    },
    profileStart: () => first.profileStart(),
    profileStop: (file) => first.profileStop(file),
    stop: async () => {
      await Promise.all(nodes.map((n) => n.stop()));
    },
  };
}
