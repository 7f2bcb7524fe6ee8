import { useCallback, useEffect, useMemo, useState } from "react";
import type { ReactNode } from "react";
import { useConnection } from "../hooks/use-connection-status.js";
import { useConversation } from "../hooks/use-conversation.js";
import { useDraftEditing } from "./composer-draft.js";
import { MessageListView } from "./message-list-view.js";

/** Props of {@link MessageList}. */
export interface MessageListProps {
  conversationId: string;
  /** Mark the conversation read while its newest message is in view and the tab is visible. @default true */
  autoMarkRead?: boolean;
  emptyText?: ReactNode;
  /** The user may delete others' messages for everyone (a moderator). @default false */
  canDeleteForEveryone?: boolean;
  className?: string;
}

function useTabVisible(): boolean {
  const [visible, setVisible] = useState(() => typeof document === "undefined" || document.visibilityState !== "hidden");
  useEffect(() => {
    if (typeof document === "undefined") return;
    const update = () => setVisible(document.visibilityState !== "hidden");
    document.addEventListener("visibilitychange", update);
    return () => document.removeEventListener("visibilitychange", update);
  }, []);
  return visible;
}

/**
 * A conversation's messages, live: opens the conversation, shows pending
 * and failed sends, an "Unread messages" divider where the reader left off,
 * and marks the conversation read while its bottom is visible. Reply and
 * Edit share the conversation's draft with its `Composer`.
 *
 * @example
 * <MessageList conversationId={id} />
 */
export function MessageList({ conversationId, autoMarkRead = true, emptyText, canDeleteForEveryone = false, className }: MessageListProps) {
  const conversation = useConversation(conversationId);
  const draft = useDraftEditing(conversationId);
  const { user } = useConnection();
  const tabVisible = useTabVisible();
  // Where the reader left off when the conversation loaded; it stays put while they read on.
  const [unreadAfter, setUnreadAfter] = useState<number | null>(null);
  const ready = conversation.status === "ready";
  useEffect(() => {
    if (ready && unreadAfter === null) setUnreadAfter(conversation.lastReadSeq);
  }, [ready, unreadAfter, conversation.lastReadSeq]);

  const { markRead, messages, members } = conversation;
  const userNames = useMemo(() => Object.fromEntries(members.map((m) => [m.userId, m.name])), [members]);
  const newestFromOthers = messages.reduce((n, m) => (!m.own && m.seq !== null && m.seq > n ? m.seq : n), 0);
  const onBottomVisible = useCallback(() => {
    if (autoMarkRead && tabVisible && ready && newestFromOthers > conversation.lastReadSeq) markRead().catch(() => undefined);
  }, [autoMarkRead, tabVisible, ready, newestFromOthers, conversation.lastReadSeq, markRead]);

  // A refused edit, delete or reaction says why for a few seconds.
  const [notice, setNotice] = useState<string | null>(null);
  useEffect(() => {
    if (notice === null) return;
    const timer = setTimeout(() => setNotice(null), 5000);
    return () => clearTimeout(timer);
  }, [notice]);
  const failed = (what: string) => (err: unknown) => {
    setNotice(`${what}: ${err instanceof Error ? err.message : String(err)}`);
  };

  return (
    <MessageListView
      messages={messages}
      showSenderNames={conversation.conversation?.kind !== "direct"}
      unreadAfterSeq={unreadAfter}
      hasOlder={conversation.hasOlder}
      loadingOlder={conversation.loadingOlder}
      onLoadOlder={() => void conversation.loadOlder().catch(() => undefined)}
      onRetry={(clientId) => void conversation.retry(clientId)}
      onDiscard={conversation.discard}
      onEdit={(id, text) => conversation.edit(id, text).catch(failed("Not edited"))}
      onDelete={(id, scope) => conversation.delete(id, scope).catch(failed("Not deleted"))}
      onReact={(id, emoji, on) => conversation.react(id, emoji, on).catch(failed("Reaction not saved"))}
      notice={notice}
      onReply={draft.setReplyTo}
      editingId={draft.editing}
      onEditingChange={draft.setEditing}
      canDeleteForEveryone={canDeleteForEveryone}
      onBottomVisible={onBottomVisible}
      currentUserId={user?.id ?? null}
      userNames={userNames}
      emptyText={emptyText}
      className={className}
    />
  );
}
