import { createContext, useContext } from "react";
import type { ParleyClient } from "@parley/client";

/** The client `ParleyProvider` gives to everything below it. */
export const ParleyContext = createContext<ParleyClient | null>(null);

/**
 * The client from the nearest `ParleyProvider`, for anything the hooks do
 * not cover (e.g. `client.createConversation`).
 */
export function useParley(): ParleyClient {
  const client = useContext(ParleyContext);
  if (!client) throw new Error("Parley hooks and components must be used inside <ParleyProvider>");
  return client;
}
