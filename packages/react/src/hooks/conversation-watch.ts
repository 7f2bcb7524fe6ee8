import type { ConversationHandle } from "@parley/client";

const watchers = new WeakMap<ConversationHandle, number>();

/**
 * Opens a conversation for as long as at least one component uses it:
 * the first user opens it, the last one to go closes it.
 */
export function watchConversation(handle: ConversationHandle): () => void {
  const count = watchers.get(handle) ?? 0;
  watchers.set(handle, count + 1);
  if (count === 0 || !handle.watching) handle.open().catch(() => undefined);
  return () => {
    const left = (watchers.get(handle) ?? 1) - 1;
    watchers.set(handle, left);
    if (left === 0) handle.close();
  };
}
