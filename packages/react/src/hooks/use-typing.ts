import { useEffect } from "react";
import type { TypingUser } from "@parley/client";
import { useParley } from "../parley-context.js";
import { watchConversation } from "./conversation-watch.js";
import { useStoreSelector } from "./use-store.js";

const sameTypists = (a: TypingUser[], b: TypingUser[]) =>
  a.length === b.length && a.every((u, i) => u.userId === b[i]!.userId && u.name === b[i]!.name);

/**
 * Who else is typing in a conversation right now. Re-renders only when
 * that changes.
 *
 * @example
 * const typing = useTyping(id); // [{ userId: "bob", name: "Bob" }]
 */
export function useTyping(conversationId: string): TypingUser[] {
  const handle = useParley().conversation(conversationId);
  useEffect(() => watchConversation(handle), [handle]);
  return useStoreSelector(handle, (s) => s.typing, sameTypists);
}
