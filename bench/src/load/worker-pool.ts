import { fileURLToPath } from "node:url";
import { spawnChild, stopChild } from "../process/children.js";
import type { RpcClient } from "../process/rpc.js";
import type { ProcessStats, TargetKind } from "../targets/target-spec.js";
import type { SimUser, WorkerInit } from "./worker-protocol.js";

const WORKER_MODULE = fileURLToPath(new URL("./worker-main.js", import.meta.url));

export interface WorkerPoolOptions {
  count: number;
  url: string;
  /** Every node's URL, when the target has several. */
  urls?: readonly string[];
  dialect: TargetKind;
  jwtSecret: string;
  logFile?: string;
  /** Extra environment for the workers (e.g. to load or refuse bufferutil). */
  env?: Record<string, string | undefined>;
}

/** Load-generator processes, each holding a share of the simulated users. */
export class WorkerPool {
  readonly workers: RpcClient[];

  private constructor(workers: RpcClient[]) {
    this.workers = workers;
  }

  static async start(options: WorkerPoolOptions): Promise<WorkerPool> {
    const workers: RpcClient[] = [];
    for (let i = 0; i < options.count; i++) {
      workers.push(
        spawnChild({
          name: `worker ${i}`,
          module: WORKER_MODULE,
          execArgv: ["--max-old-space-size=2048"],
          ...(options.logFile ? { logFile: options.logFile } : {}),
          ...(options.env ? { env: options.env } : {}),
        }),
      );
    }
    const pool = new WorkerPool(workers);
    try {
      await Promise.all(workers.map((w) => w.notice("ready", 20_000)));
      await Promise.all(
        workers.map((w, worker) =>
          w.call(
            "init",
            {
              url: options.url,
              ...(options.urls && options.urls.length > 1 ? { urls: [...options.urls] } : {}),
              dialect: options.dialect,
              jwtSecret: options.jwtSecret,
              worker,
            } satisfies WorkerInit,
            10_000,
          ),
        ),
      );
    } catch (err) {
      await pool.stop();
      throw err;
    }
    return pool;
  }

  get size(): number {
    return this.workers.length;
  }

  /** Calls every worker with its own parameters and waits for all of them. */
  each<T>(method: string, params: (worker: number) => unknown, timeoutMs: number): Promise<T[]> {
    return Promise.all(this.workers.map((w, i) => w.call<T>(method, params(i), timeoutMs)));
  }

  all<T>(method: string, params: unknown, timeoutMs: number): Promise<T[]> {
    return this.each<T>(method, () => params, timeoutMs);
  }

  stats(): Promise<ProcessStats[]> {
    return this.all<ProcessStats>("stats", {}, 10_000);
  }

  async stop(): Promise<void> {
    await Promise.all(this.workers.map((w) => stopChild(w, 5000)));
  }
}

/**
 * Splits users over `workers` so that every member of a conversation lands
 * in the same worker (users are grouped by their first conversation).
 */
export function shareUsers(users: SimUser[], workers: number): SimUser[][] {
  const shares: SimUser[][] = Array.from({ length: workers }, () => []);
  const home = new Map<string, number>();
  let next = 0;
  for (const user of users) {
    const key = user.conversations[0] ?? user.userId;
    let w = home.get(key);
    if (w === undefined) {
      w = next++ % workers;
      home.set(key, w);
    }
    shares[w]!.push(user);
  }
  return shares;
}
