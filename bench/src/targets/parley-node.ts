import type { AddressInfo } from "node:net";
import { applyServingV8Flags, createParleyServer, loadConfig } from "@parley/server";
import type { TargetSpec } from "./target-spec.js";
import { applyTransportSettings } from "./transport-settings.js";
import type { RunningTarget } from "./running-target.js";

/**
 * Starts one Parley node on 127.0.0.1 with the bench's secrets and a
 * database of its own (shared with the other nodes, through Redis, when the
 * spec names one). Per-user message limits are raised so the load
 * generator, which sends for many users from one address, measures the
 * server rather than the limiter.
 */
export async function startParleyNode(spec: TargetSpec): Promise<RunningTarget> {
  if (!spec.databaseUrl) throw new Error("a Parley target needs a database URL");
  const config = loadConfig({
    env: {},
    cwd: spec.workDir,
    overrides: {
      port: 0,
      host: "127.0.0.1",
      databaseUrl: spec.databaseUrl,
      jwtSecret: spec.jwtSecret,
      apiKey: spec.apiKey,
      corsOrigins: ["*"],
      rateMessages: "100000/s,100000",
      dataDir: spec.workDir,
      ...(spec.redisUrl ? { redisUrl: spec.redisUrl, redisPrefix: spec.redisPrefix ?? "parley-bench:" } : {}),
    },
  });
  // As `parley serve` runs it.
  applyServingV8Flags();
  const server = await createParleyServer(config, { logger: { level: "warn" } });
  applyTransportSettings(server.gateway.io, spec.transport);
  await server.listen();
  const { port } = server.http.server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    connections: () => server.gateway.io.engine.clientsCount,
    close: () => server.close(),
  };
}
