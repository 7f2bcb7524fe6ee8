import { fork, type ChildProcess } from "node:child_process";
import { openSync, closeSync } from "node:fs";
import { RpcClient } from "./rpc.js";

const running = new Set<ChildProcess>();

/** Kills every child process the bench started that is still running. */
export function killAllChildren(): void {
  for (const child of running) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
  running.clear();
}

let hooked = false;
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on("exit", killAllChildren);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(signal, () => {
      killAllChildren();
      process.exit(130);
    });
  }
}

export interface SpawnOptions {
  /** Shown in errors. */
  name: string;
  /** Compiled module to run. */
  module: string;
  args?: string[];
  /** Node flags for the child (e.g. `--expose-gc`, `--cpu-prof`). */
  execArgv?: string[];
  env?: Record<string, string | undefined>;
  /** The child's stdout and stderr go to this file (appended); otherwise they are dropped. */
  logFile?: string;
}

/** Forks a compiled bench module with an IPC channel; the child is killed when the bench exits. */
export function spawnChild(options: SpawnOptions): RpcClient {
  hookExit();
  const out = options.logFile ? openSync(options.logFile, "a") : "ignore";
  const child = fork(options.module, options.args ?? [], {
    execArgv: options.execArgv ?? [],
    env: { ...process.env, ...options.env },
    stdio: ["ignore", out, out, "ipc"],
    serialization: "advanced",
  });
  if (typeof out === "number") closeSync(out);
  running.add(child);
  child.once("exit", () => running.delete(child));
  return new RpcClient(child, options.name);
}

/** Asks a child to stop, then kills it if it has not exited within `graceMs`. */
export async function stopChild(rpc: RpcClient, graceMs = 10_000): Promise<void> {
  const child = rpc.child;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  rpc.call("stop", {}, graceMs).catch(() => undefined);
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}
