import { monitorEventLoopDelay, PerformanceObserver } from "node:perf_hooks";
/** What the bench measures: Parley itself, or the bare Socket.IO relay it is compared with. */
export type TargetKind = "parley" | "relay";

/** Transport settings under test; both default to off, as in Socket.IO 4.8. */
export interface TransportSettings {
  /** Compress WebSocket frames over 1 KiB with permessage-deflate. */
  perMessageDeflate: boolean;
  /** Drop engine.io's reference to each connection's first HTTP request once connected. */
  discardRequest: boolean;
}

export const DEFAULT_TRANSPORT: TransportSettings = { perMessageDeflate: false, discardRequest: false };

/** How to start one target process. */
export interface TargetSpec {
  kind: TargetKind;
  /** Parley's database (`sqlite:<path>` or `postgres://…`). */
  databaseUrl?: string;
  jwtSecret: string;
  apiKey: string;
  transport: TransportSettings;
  /** Parley reads no `parley.config.json` but the one here (there is none) and keeps nothing else in it. */
  workDir: string;
  /** Redis shared by several Parley nodes (multi-node mode); absent for one node. */
  redisUrl?: string;
  /** Prefix of every Redis key the nodes use, unique per run so it can be removed after. */
  redisPrefix?: string;
}

/** Resource use of a process at one moment. */
export interface ProcessStats {
  /** Wall clock, ms since the epoch. */
  at: number;
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  /** CPU time since the process started, ms. */
  cpuUserMs: number;
  cpuSystemMs: number;
  /** Open engine.io connections (targets only; 0 elsewhere). */
  connections: number;
}

/** Reads this process's resource use; with `gc`, collects garbage first (needs `--expose-gc`). */
export function readProcessStats(connections: number, gc = false): ProcessStats {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (gc && collect) {
    collect();
    collect();
  }
  const mem = process.memoryUsage();
  const cpu = process.cpuUsage();
  return {
    at: Date.now(),
    rss: mem.rss,
    heapUsed: mem.heapUsed,
    heapTotal: mem.heapTotal,
    external: mem.external,
    arrayBuffers: mem.arrayBuffers,
    cpuUserMs: cpu.user / 1000,
    cpuSystemMs: cpu.system / 1000,
    connections,
  };
}

/**
 * What held a target's event loop since the last reset: how late a
 * timer due every 10 ms ran (`monitorEventLoopDelay`) and V8's garbage
 * collection pauses. A step's p99 that the server's loop stalled for shows
 * here; one that it did not points elsewhere (the database, the generator).
 */
export interface Stalls {
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  gcPauses: number;
  gcPauseMaxMs: number;
  gcPauseTotalMs: number;
}

const LOOP_RESOLUTION_MS = 10;

/**
 * Watches this process's event loop and garbage collections; `read` gives
 * what happened since the last reset (the loop from the watch's first timer
 * run after it, at most 10 ms later).
 */
export function watchStalls(): { read(reset: boolean): Stalls } {
  const delay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  delay.enable();
  // The histogram holds the time between its timer's runs: the resolution, plus however long the loop was held.
  const held = (ns: number) => (delay.count > 0 ? Math.max(0, ns / 1e6 - LOOP_RESOLUTION_MS) : 0);
  let gc = { pauses: 0, max: 0, total: 0 };
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gc.pauses += 1;
      gc.total += entry.duration;
      gc.max = Math.max(gc.max, entry.duration);
    }
  }).observe({ entryTypes: ["gc"] });
  return {
    read(reset) {
      const stalls: Stalls = {
        loopDelayP99Ms: held(delay.percentile(99)),
        loopDelayMaxMs: held(delay.max),
        gcPauses: gc.pauses,
        gcPauseMaxMs: gc.max,
        gcPauseTotalMs: gc.total,
      };
      if (reset) {
        delay.reset();
        gc = { pauses: 0, max: 0, total: 0 };
      }
      return stalls;
    },
  };
}

/** CPU use between two samples, as a percentage of one core. */
export function cpuPercent(before: ProcessStats, after: ProcessStats): number {
  const wall = after.at - before.at;
  if (wall <= 0) return 0;
  const cpu = after.cpuUserMs + after.cpuSystemMs - (before.cpuUserMs + before.cpuSystemMs);
  return (cpu / wall) * 100;
}
