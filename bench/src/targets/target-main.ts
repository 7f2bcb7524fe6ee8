import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { Session } from "node:inspector/promises";
import { startBareRelay } from "../relay/bare-relay.js";
import { serveRpc, sendNotice } from "../process/rpc.js";
import { startParleyNode } from "./parley-node.js";
import type { RunningTarget } from "./running-target.js";
import { readProcessStats, watchStalls, type TargetSpec } from "./target-spec.js";

/** Whether ws, which carries every Socket.IO WebSocket, will use the native bufferutil. */
function bufferutilLoaded(): boolean {
  if (process.env.WS_NO_BUFFER_UTIL) return false;
  try {
    const require = createRequire(import.meta.url);
    require.resolve("bufferutil", { paths: [path.dirname(require.resolve("ws"))] });
    return true;
  } catch {
    return false;
  }
}

/**
 * A target process: Parley or the bare relay, alone in its process so its
 * memory and CPU can be read apart from the load generator's. The spec
 * comes in PARLEY_BENCH_TARGET; "ready" carries the URL.
 */
async function main(): Promise<void> {
  const raw = process.env.PARLEY_BENCH_TARGET;
  if (!raw) throw new Error("PARLEY_BENCH_TARGET is not set");
  const spec = JSON.parse(raw) as TargetSpec;
  const stalls = watchStalls();
  const target: RunningTarget = spec.kind === "parley" ? await startParleyNode(spec) : await startBareRelay(spec.transport);
  let stopping = false;
  let profiler: Session | null = null;
  serveRpc({
    profileStart: async () => {
      if (profiler) throw new Error("already profiling");
      profiler = new Session();
      profiler.connect();
      await profiler.post("Profiler.enable");
      await profiler.post("Profiler.setSamplingInterval", { interval: 200 });
      await profiler.post("Profiler.start");
      return null;
    },
    profileStop: async (params: { file: string }) => {
      if (!profiler) throw new Error("not profiling");
      const { profile } = await profiler.post("Profiler.stop");
      profiler.disconnect();
      profiler = null;
      writeFileSync(params.file, JSON.stringify(profile));
      return params.file;
    },
    stats: async (params: { gc?: boolean }) => readProcessStats(target.connections(), params.gc === true),
    stalls: async (params: { reset?: boolean }) => stalls.read(params.reset === true),
    stop: async () => {
      if (!stopping) {
        stopping = true;
        // Exit after the reply, through process.exit so a --cpu-prof profile is written.
        setTimeout(() => {
          const force = setTimeout(() => process.exit(0), 5000);
          target.close().finally(() => {
            clearTimeout(force);
            process.exit(0);
          });
        }, 10);
      }
      return null;
    },
  });
  sendNotice("ready", { url: target.url, bufferutil: bufferutilLoaded() });
}

main().catch((err: unknown) => {
  sendNotice("failed", { message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  setTimeout(() => process.exit(1), 50);
});
