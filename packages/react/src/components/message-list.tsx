import { useCallback, useEffect, useMemo, useState } from "react";
import type { ReactNode } from "react";
import type { ChatMessage } from "@parley/client";
import { useConnection } from "../hooks/use-connection-status.js";
import { useConversation } from "../hooks/use-conversation.js";
import { useStoreSelector } from "../hooks/use-store.js";
import { useParley } from "../parley-context.js";
import { useDraftEditing } from "./composer-draft.js";
import { MessageListView, type MessageFocus } from "./message-list-view.js";

/** Props of {@link MessageList}. */
export interface MessageListProps {
  conversationId: string;
  /** Mark the conversation read while its newest message is in view and the tab is visible. @default true */
  autoMarkRead?: boolean;
  emptyText?: ReactNode;
  /** The user may delete others' messages for everyone (a moderator). @default false */
  canDeleteForEveryone?: boolean;
  className?: string;
  /** A message to bring into view and highlight once the list has opened, opening the list at it if need be (a search result). */
  focus?: MessageFocus | null;
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
 * and failed sends, an "Unread messages" divider where the reader left off
 * (it opens there), and marks the conversation read once its bottom is
 * visible. Reply and Edit share the conversation's draft with its `Composer`.
 *
 * @example
 * <MessageList conversationId={id} />
 */
export function MessageList(props: MessageListProps) {
  // Another conversation is another list: its own read position and scroll.
  return <ConversationMessages key={props.conversationId} {...props} />;
}

/**
 * The newest `seq` of a message from others, system notices included ("Sam
 * joined" counts as unread on the server, so reading it must be told).
 */
function newestFromOthersOf(messages: readonly ChatMessage[]): number {
  return messages.reduce((n, m) => (!m.own && m.seq !== null && m.seq > n ? m.seq : n), 0);
}

function newestOf(messages: readonly ChatMessage[]): number {
  return messages.reduce((n, m) => (m.seq !== null && m.seq > n ? m.seq : n), 0);
}

function ConversationMessages({ conversationId, autoMarkRead = true, emptyText, canDeleteForEveryone = false, className, focus = null }: MessageListProps) {
  const conversation = useConversation(conversationId);
  const draft = useDraftEditing(conversationId);
  const { user } = useConnection();
  const tabVisible = useTabVisible();
  const { markRead, messages, members } = conversation;
  const ready = conversation.status === "ready";
  const newestFromOthers = newestFromOthersOf(messages);
  const [atBottom, setAtBottom] = useState(false);
  // Where the reader left off when the conversation loaded; it stays put while they read on. It is known in the
  // same render as the messages, so the list opens at the divider before anything could be marked read.
  const [unreadAfter, setUnreadAfter] = useState<number | null>(null);
  // The newest message from others already accounted for (the divider is decided as each one arrives).
  const [seenNewest, setSeenNewest] = useState(0);
  // A reader who is not a member keeps no read position here: in a channel nothing is unread for them (as for
  // a newcomer who joins), in support an operator's own position comes with the inbox.
  const inboxReadSeq = useStoreSelector(
    useParley().inbox,
    (s) => s.conversations.find((c) => c.id === conversationId)?.lastReadSeq ?? null,
    (a, b) => a === b,
  );
  const member = user !== null && members.some((m) => m.userId === user.id);
  const kind = conversation.conversation?.kind;
  // Only members (and operators in support) have a read position to move.
  const keepsPosition = member || kind === "support";
  const readFrom = member ? conversation.lastReadSeq : kind === "channel" ? newestFromOthers : (inboxReadSeq ?? conversation.lastReadSeq);
  // The conversation's newest seq once it has opened (and caught up, when it was open before): screen readers
  // hear of the messages after it, not of those it caught up with.
  const { handle } = conversation;
  const [openedThrough, setOpenedThrough] = useState<number | null>(null);
  useEffect(() => {
    let live = true;
    void handle.settled().then(() => {
      const snapshot = handle.getSnapshot();
      if (live) setOpenedThrough(Math.max(snapshot.conversation?.lastSeq ?? 0, newestOf(snapshot.messages)));
    });
    return () => {
      live = false;
    };
  }, [handle]);
  if (ready && unreadAfter === null) {
    setUnreadAfter(readFrom);
    setSeenNewest(newestFromOthers);
  } else if (unreadAfter !== null && newestFromOthers !== seenNewest) {
    setSeenNewest(newestFromOthers);
    // Messages that arrive while the reader is at the bottom of a visible tab are read as they come: no divider
    // for them. One that arrives while they are scrolled up or away gets it (unless one is shown already).
    const readingLive = autoMarkRead && tabVisible && atBottom;
    const dividerShown = messages.some((m) => !m.own && m.seq !== null && m.type !== "system" && m.seq > unreadAfter && m.seq <= seenNewest);
    if (readingLive && !dividerShown && newestFromOthers > unreadAfter) setUnreadAfter(newestFromOthers);
  }

  // Replies to messages older than what is loaded still quote their sender and text.
  const { loadQuoted } = conversation;
  useEffect(() => {
    loadQuoted().catch(() => undefined);
  }, [messages, loadQuoted]);

  const userNames = useMemo(() => Object.fromEntries(members.map((m) => [m.userId, m.name])), [members]);
  const known = unreadAfter !== null;
  const onBottomVisible = useCallback(() => {
    if (autoMarkRead && keepsPosition && tabVisible && ready && known && newestFromOthers > conversation.lastReadSeq) markRead().catch(() => undefined);
  }, [autoMarkRead, keepsPosition, tabVisible, ready, known, newestFromOthers, conversation.lastReadSeq, markRead]);

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
      announceAfterSeq={openedThrough}
      focus={focus}
      hasOlder={conversation.hasOlder}
      loadingOlder={conversation.loadingOlder}
      onLoadOlder={() => void conversation.loadOlder().catch(() => undefined)}
      hasNewer={conversation.hasNewer}
      loadingNewer={conversation.loadingNewer}
      onLoadNewer={conversation.loadNewer}
      onJumpToLatest={conversation.jumpToLatest}
      newerCount={conversation.newerCount}
      onOpenAt={conversation.openAt}
      quoted={conversation.quoted}
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
      onAtBottomChange={setAtBottom}
      members={members}
      currentUserId={user?.id ?? null}
      userNames={userNames}
      emptyText={emptyText}
      className={className}
    />
  );
}
