import { useEffect } from "react";
import type { InboxSnapshot } from "@parley/client";
import { useParley } from "../parley-context.js";
import { useStore } from "./use-store.js";

/** What {@link useInbox} returns. */
export interface InboxState extends InboxSnapshot {
  /** Loads the next page of older conversations. */
  loadMore(): Promise<void>;
}

/**
 * The user's conversations, most recent activity first, with live unread
 * counts and last messages. Loads the first page on first use.
 *
 * @example
 * const { conversations, totalUnread } = useInbox();
 */
export function useInbox(): InboxState {
  const client = useParley();
  const snapshot = useStore(client.inbox);
  useEffect(() => {
    if (client.inbox.getSnapshot().status === "idle") client.inbox.load().catch(() => undefined);
  }, [client]);
  return { ...snapshot, loadMore: client.inbox.loadMore };
}
