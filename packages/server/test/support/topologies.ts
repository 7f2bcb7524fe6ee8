import { backends } from "./backends.js";
import { startTestCluster, startTestServer, type TestServer } from "./test-server.js";
import type { Config } from "../../src/config/config.js";

/** A way of running Parley that a realtime suite runs against. */
export interface Topology {
  readonly name: string;
  start(overrides?: Partial<Record<keyof Config, unknown>>): Promise<TestServer>;
  cleanup(): Promise<void>;
}

const redisUrl = process.env.PARLEY_TEST_REDIS_URL;
let announced = false;

/**
 * One node on SQLite; one node on PostgreSQL; and three nodes on PostgreSQL
 * over Redis, when `PARLEY_TEST_DATABASE_URL` and `PARLEY_TEST_REDIS_URL`
 * are set (else a "skipped: …" line).
 */
export function topologies(): Topology[] {
  const list: Topology[] = backends().map((backend) => ({
    name: `${backend.name}, 1 node`,
    start: async (overrides = {}) => startTestServer(await backend.create(), overrides),
    cleanup: () => backend.cleanup(),
  }));
  const postgres = backends().find((b) => b.name === "postgres");
  if (postgres && redisUrl) {
    list.push({
      name: "postgres, 3 nodes over Redis",
      start: async (overrides = {}) => startTestCluster(await postgres.create(), redisUrl, 3, overrides),
      cleanup: () => postgres.cleanup(),
    });
  } else if (!announced) {
    announced = true;
    process.stdout.write("skipped: three-node runs of these suites (PARLEY_TEST_DATABASE_URL and PARLEY_TEST_REDIS_URL must both be set)\n");
  }
  return list;
}
