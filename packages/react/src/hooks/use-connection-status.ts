import type { ConnectionState, ConnectionStatus } from "@parley/client";
import { useParley } from "../parley-context.js";
import { useStore } from "./use-store.js";

/**
 * The connection status: `connecting`, `connected`, `reconnecting` or
 * `disconnected`.
 *
 * @example
 * const status = useConnectionStatus();
 * if (status === "reconnecting") return <p>Reconnecting…</p>;
 */
export function useConnectionStatus(): ConnectionStatus {
  return useConnection().status;
}

/** The whole connection state: status, the error that stopped it, the signed-in user. */
export function useConnection(): ConnectionState {
  return useStore(useParley().connection);
}
