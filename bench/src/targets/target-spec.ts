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

/** CPU use between two samples, as a percentage of one core. */
export function cpuPercent(before: ProcessStats, after: ProcessStats): number {
  const wall = after.at - before.at;
  if (wall <= 0) return 0;
  const cpu = after.cpuUserMs + after.cpuSystemMs - (before.cpuUserMs + before.cpuSystemMs);
  return (cpu / wall) * 100;
}
