import type { ReactNode } from "react";
import type { ParleyClient } from "@parley/client";
import { ParleyContext } from "./parley-context.js";

/** Props of {@link ParleyProvider}. */
export interface ParleyProviderProps {
  /** A client from `createParleyClient`; create it once, outside rendering. */
  client: ParleyClient;
  children?: ReactNode;
}

/**
 * Makes a Parley client available to the hooks and components below it.
 * The provider does not own the client: close it yourself when the user
 * signs out.
 *
 * @example
 * const client = createParleyClient({ url: "https://chat.example.com", getToken });
 * root.render(<ParleyProvider client={client}><App /></ParleyProvider>);
 */
export function ParleyProvider({ client, children }: ParleyProviderProps) {
  return <ParleyContext.Provider value={client}>{children}</ParleyContext.Provider>;
}
