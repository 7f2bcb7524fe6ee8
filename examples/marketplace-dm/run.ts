import { parleyFromEnv } from "../lib/env.js";
import { playMarketplaceDm } from "./story.js";

try {
  await playMarketplaceDm({ parley: parleyFromEnv() });
} catch (err) {
  process.stderr.write(`\n${(err as Error).message}\n`);
  process.exitCode = 1;
}
