import { useSyncExternalStore } from "react";
import type { MessageFocus } from "@parley/react";

/**
 * The message a conversation should show when it opens or is open (a search
 * result was chosen), per conversation; the conversation's view forgets it
 * when it closes, so coming back later starts as usual.
 */
const focusBy = new Map<string, MessageFocus>();
const listeners = new Set<() => void>();

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Asks the conversation's list to show this message (again, if it asked before). */
export function showMessage(conversationId: string, focus: MessageFocus): void {
  focusBy.set(conversationId, { ...focus });
  for (const listener of [...listeners]) listener();
}

/** Forgets what the conversation was asked to show. */
export function forgetMessageFocus(conversationId: string): void {
  focusBy.delete(conversationId);
}

/** The message the conversation was last asked to show, if any. */
export function useMessageFocus(conversationId: string): MessageFocus | null {
  const get = () => focusBy.get(conversationId) ?? null;
  return useSyncExternalStore(subscribe, get, get);
}
