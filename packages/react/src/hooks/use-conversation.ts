import { useEffect, useMemo } from "react";
import type { ConversationHandle, ConversationSnapshot, SendInput } from "@parley/client";
import type { DeleteScope, Message } from "@parley/protocol";
import { useParley } from "../parley-context.js";
import { watchConversation } from "./conversation-watch.js";
import { useStore } from "./use-store.js";

/** The actions of {@link useConversation}; the same functions on every render. */
export interface ConversationActions {
  /** Sends a message; it shows at once as pending. Rejects when refused (then it shows as failed). */
  send(input: SendInput | string): Promise<Message>;
  edit(messageId: string, text: string): Promise<Message>;
  /** Deletes for everyone (default) or, with `"me"`, hides it for this user. */
  delete(messageId: string, scope?: DeleteScope): Promise<void>;
  react(messageId: string, emoji: string, on?: boolean): Promise<Message>;
  loadOlder(): Promise<void>;
  /** Shows the messages from `seq` on instead of the newest (e.g. the first unread of a long backlog); `hasNewer` then says more follow. */
  openAt(seq: number): Promise<void>;
  /** Loads the next page towards the newest messages, while `hasNewer`. */
  loadNewer(): Promise<void>;
  /** Shows the newest messages again after `openAt`. */
  jumpToLatest(): void;
  /** Fetches the originals that replies on show quote when they are not loaded (`quoted`). */
  loadQuoted(): Promise<void>;
  /** Marks read up to `seq` (default: the newest message on show). */
  markRead(seq?: number): Promise<void>;
  /** Sends a failed message again. */
  retry(clientId: string): Promise<Message>;
  /** Drops a failed message. */
  discard(clientId: string): void;
  /** Call on each keystroke: others see "… is typing". */
  sendTyping(): void;
  stopTyping(): void;
}

/** What {@link useConversation} returns: the conversation's state and its actions. */
export type ConversationState = ConversationSnapshot & ConversationActions & { handle: ConversationHandle };

function actionsOf(handle: ConversationHandle): ConversationActions {
  return {
    send: (input) => handle.send(typeof input === "string" ? { text: input } : input),
    edit: (messageId, text) => handle.edit(messageId, text),
    delete: (messageId, scope) => handle.delete(messageId, scope),
    react: (messageId, emoji, on) => handle.react(messageId, emoji, on),
    loadOlder: () => handle.loadOlder(),
    openAt: (seq) => handle.openAt(seq),
    loadNewer: () => handle.loadNewer(),
    jumpToLatest: () => handle.jumpToLatest(),
    loadQuoted: () => handle.loadQuoted(),
    markRead: (seq) => handle.markRead(seq),
    retry: (clientId) => handle.retry(clientId),
    discard: (clientId) => handle.discard(clientId),
    sendTyping: () => handle.sendTyping(),
    stopTyping: () => handle.stopTyping(),
  };
}

/**
 * One conversation: its messages (pending and failed ones included),
 * members, read state and typing users, and what a user does in it. The
 * conversation is opened (loaded and watched) while a component uses it.
 *
 * @example
 * const { messages, send } = useConversation(id);
 * return <button onClick={() => send("Hi")}>Say hi</button>;
 */
export function useConversation(conversationId: string): ConversationState {
  const client = useParley();
  const handle = client.conversation(conversationId);
  const snapshot = useStore(handle);
  useEffect(() => watchConversation(handle), [handle]);
  const actions = useMemo(() => actionsOf(handle), [handle]);
  return { ...snapshot, ...actions, handle };
}
