import { parleyFromEnv, portFromEnv } from "../lib/env.js";
import { DisputeHost } from "./host.js";
import { playDispute } from "./story.js";
import { WebhookReceiver } from "./webhooks.js";

// Parley posts its webhooks to this host's endpoint: start Parley with
//   PARLEY_WEBHOOK_URL=http://127.0.0.1:4100/parley/webhooks PARLEY_WEBHOOK_SECRET=<the same secret as here>
const webhookSecret = process.env.PARLEY_WEBHOOK_SECRET ?? "whsec-demo-change-me";
const webhooks = new WebhookReceiver(webhookSecret);
const endpoint = await webhooks.listen(portFromEnv("HOST_PORT", 4100));
process.stdout.write(`Host back end receiving Parley webhooks at ${endpoint}\n`);
try {
  const parley = parleyFromEnv();
  await playDispute({ parley, host: new DisputeHost(parley, webhooks), webhooks });
} catch (err) {
  process.stderr.write(`\n${(err as Error).message}\n`);
  if (/webhook/.test((err as Error).message) || webhooks.refused.length > 0) {
    const mismatch = webhooks.refused.length > 0 ? ` (${webhooks.refused.length} webhooks were signed with another secret)` : "";
    process.stderr.write(`Start Parley with PARLEY_WEBHOOK_URL=${endpoint} PARLEY_WEBHOOK_SECRET=${webhookSecret}${mismatch}\n`);
  }
  process.exitCode = 1;
} finally {
  await webhooks.close();
}
