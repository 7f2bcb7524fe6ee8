import { createParleyClient, type ParleyClient, type ParleyClientOptions } from "@parley/client";
import { waitUntil } from "./wait.js";

/**
 * Connects to Parley as one user, the way a browser tab of the host's app
 * would: the client asks `getToken` (the host back end's token endpoint)
 * for a token, and again whenever it needs a fresh one. Resolves once
 * signed in; rejects with Parley's reason when the token is refused.
 */
export async function signIn(
  url: string,
  getToken: () => Promise<string>,
  options: Omit<ParleyClientOptions, "url" | "token" | "getToken"> = {},
  timeoutMs = 5000,
): Promise<ParleyClient> {
  const client = createParleyClient({ transports: ["websocket"], ...options, url, getToken });
  try {
    const state = await waitUntil(
      client.connection,
      (s) => s.status === "connected" || (s.status === "disconnected" && s.error !== null),
      `the connection to Parley at ${url}`,
      timeoutMs,
    );
    if (state.status !== "connected") {
      const reason = state.error?.details?.reason;
      throw new Error(`Parley refused the token: ${state.error?.message ?? "unknown error"}${reason ? ` (${String(reason)})` : ""}`);
    }
    return client;
  } catch (err) {
    client.close();
    throw err;
  }
}
