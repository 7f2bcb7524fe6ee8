import { parleyFromEnv } from "../lib/env.js";
import { playCommunity } from "./story.js";

try {
  await playCommunity({ parley: parleyFromEnv() });
} catch (err) {
  process.stderr.write(`\n${(err as Error).message}\n`);
  process.exitCode = 1;
}
