import { parleyFromEnv } from "../lib/env.js";
import { playSupportDesk } from "./story.js";

try {
  await playSupportDesk({ parley: parleyFromEnv() });
} catch (err) {
  process.stderr.write(`\n${(err as Error).message}\n`);
  process.exitCode = 1;
}
