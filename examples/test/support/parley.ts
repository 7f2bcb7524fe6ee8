import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadConfig, type Config } from "../../../packages/server/src/config/config.js";
import { createParleyServer, type ParleyServer } from "../../../packages/server/src/parley-server.js";
import type { ParleyConnection } from "../../lib/env.js";

export const API_KEY = "pk_example_test_0123456789abcdef";
export const JWT_SECRET = "example-test-jwt-secret-0123456789abcdef";

/** A real Parley node on 127.0.0.1 (port 0) with a fresh SQLite file, and what a host needs to talk to it. */
export interface RunningParley extends ParleyConnection {
  readonly server: ParleyServer;
  readonly config: Config;
  close(): Promise<void>;
}

/** Starts Parley with the configuration a story needs, e.g. `{ guests: true }`. Nothing is read from the environment. */
export async function startParley(overrides: Partial<Record<keyof Config, unknown>> = {}): Promise<RunningParley> {
  const dir = mkdtempSync(path.join(tmpdir(), "parley-example-"));
  const config = loadConfig({
    env: {},
    cwd: dir,
    overrides: {
      port: 0,
      host: "127.0.0.1",
      databaseUrl: `sqlite:${path.join(dir, "parley.db")}`,
      dataDir: dir,
      uploadsDir: path.join(dir, "uploads"),
      jwtSecret: JWT_SECRET,
      apiKey: API_KEY,
      ...overrides,
    },
  });
  const server = await createParleyServer(config);
  let url: URL;
  try {
    url = new URL(await server.listen());
  } catch (err) {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  url.hostname = "127.0.0.1";
  return {
    server,
    config,
    url: url.origin,
    apiKey: API_KEY,
    jwtSecret: JWT_SECRET,
    async close() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
