import type { ParleyClientOptions } from "@parley/client";

/** Options that keep tests fast: quick reconnects and short ack timeouts. */
export const FAST: Partial<ParleyClientOptions> = {
  transports: ["websocket"],
  reconnectDelayMs: 50,
  reconnectDelayMaxMs: 250,
  ackTimeoutMs: 2_000,
  deliveredDelayMs: 30,
};
