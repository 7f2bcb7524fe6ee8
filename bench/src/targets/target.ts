import { fileURLToPath } from "node:url";
import { spawnChild, stopChild } from "../process/children.js";
import type { RpcClient } from "../process/rpc.js";
import type { ProcessStats, TargetSpec } from "./target-spec.js";

const TARGET_MODULE = fileURLToPath(new URL("./target-main.js", import.meta.url));

/** A server under test in its own process, as the bench sees it. */
export interface Target {
  readonly spec: TargetSpec;
  readonly url: string;
  readonly pid: number;
  /** Whether ws in the target loads the native bufferutil. */
  readonly bufferutil: boolean;
  /** Memory and CPU of the target process; with `gc`, after a full collection. */
  stats(gc?: boolean): Promise<ProcessStats>;
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
    execArgv: ["--expose-gc"],
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
  return {
    spec,
    url: started.url,
    bufferutil: started.bufferutil,
    pid: rpc.child.pid ?? 0,
    stats: (gc = false) => rpc.call<ProcessStats>("stats", { gc }, 30_000),
    profileStart: async () => {
      await rpc.call("profileStart", {}, 10_000);
    },
    profileStop: async (file) => {
      await rpc.call("profileStop", { file }, 60_000);
    },
    stop: () => stopChild(rpc, 15_000),
  };
}
