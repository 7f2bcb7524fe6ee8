import { parleyFromEnv } from "../lib/env.js";
import { bookingBackends, issuersConfig } from "./host.js";
import { playBookingChat } from "./story.js";

// The two back ends' signing secrets. Parley must trust them: start it with
// PARLEY_JWT_ISSUERS set to the JSON printed below (see README.md).
const secrets = {
  user: process.env.USER_BACKEND_SECRET ?? "user-backend-demo-secret-change-me",
  bartender: process.env.BARTENDER_BACKEND_SECRET ?? "bartender-backend-demo-secret-change-me",
};

const parley = parleyFromEnv();
try {
  await playBookingChat({ parley, secrets });
} catch (err) {
  process.stderr.write(`\n${(err as Error).message}\n`);
  if (/refused the token/.test((err as Error).message)) {
    process.stderr.write(`Start Parley with:\n  PARLEY_JWT_ISSUERS='${issuersConfig(bookingBackends(secrets))}' npm start\n`);
  }
  process.exitCode = 1;
}
