import { useRef, type KeyboardEvent, type ReactNode } from "react";
import type { ChatMessage, MessageStatus } from "@parley/client";
import type { ConversationSummary, Message } from "@parley/protocol";
import { badge, relativeTime } from "../format.js";
import { useConnection } from "../hooks/use-connection-status.js";
import { useInbox } from "../hooks/use-inbox.js";
import { useNow } from "../hooks/use-now.js";
import { useStoreSelector } from "../hooks/use-store.js";
import { usePresence } from "../hooks/use-presence.js";
import { useParley } from "../parley-context.js";
import { Avatar } from "./avatar.js";
import { Icon } from "./icon.js";

/** Props of {@link ConversationList}. */
export interface ConversationListProps {
  /** The conversation shown as selected. */
  selectedId?: string | null;
  onSelect?: (conversationId: string) => void;
  /** Shown when the user has no conversations. @default "No conversations yet" */
  emptyText?: ReactNode;
  /** Shows only the conversations it returns `true` for (e.g. a support desk's tabs). @default every conversation */
  filter?: (conversation: ConversationSummary) => boolean;
  className?: string;
}

const STATUS_TEXT: Record<MessageStatus, [string, string]> = {
  pending: ["Sending", ""],
  failed: ["Not sent", "!"],
  sent: ["Sent", "✓"],
  delivered: ["Delivered", "✓✓"],
  read: ["Read", "✓✓"],
};

/** The user's own last message's mark: ✓ stored, ✓✓ delivered or read, as far as this client knows. */
function OwnStatus({ conversationId, messageId, known }: { conversationId: string; messageId: string; known: MessageStatus }) {
  const handle = useParley().conversation(conversationId);
  // The open conversation knows best; otherwise the inbox's own status of the message.
  const status = useStoreSelector(handle, (s) => s.messages.find((m) => m.id === messageId)?.status ?? known, (a, b) => a === b);
  const [label, mark] = STATUS_TEXT[status];
  return (
    <span className={`parley-status parley-status-${status}`} data-status={status} role="img" aria-label={label} title={label}>
      {status === "pending" ? <Icon name="clock" size={12} /> : mark}
    </span>
  );
}

/** The newest message in the conversation when it is the user's own, not yet stored (sending, or failed). */
function useUnsent(conversationId: string): ChatMessage | null {
  const handle = useParley().conversation(conversationId);
  return useStoreSelector(
    handle,
    (s) => {
      const last = s.messages.at(-1);
      return last?.own && (last.status === "pending" || last.status === "failed") ? last : null;
    },
    (a, b) => a === b,
  );
}

/**
 * Whom a row is named after, when it is one person: the other member of a
 * direct conversation, or a support conversation's visitor (to everyone but
 * the visitor). Their own messages need no name before them in the row.
 */
function namedAfter(summary: ConversationSummary, me: string | null): string | null {
  if (summary.title) return null;
  const person = summary.kind === "direct" ? summary.members.find((m) => m.userId !== me) : summary.kind === "support" ? visitorOf(summary) : undefined;
  return person && person.userId !== me ? person.userId : null;
}

/** A support conversation's visitor: the member who opened it, listed first. */
function visitorOf(conversation: ConversationSummary): ConversationSummary["members"][number] | undefined {
  return conversation.members[0];
}

/** A row's last message: the user's unsent one when there is one (with its clock or "!"), else the inbox's. */
function RowPreview({ summary, me, ownLast }: { summary: ConversationSummary; me: string | null; ownLast: boolean }) {
  const unsent = useUnsent(summary.id);
  const direct = summary.kind === "direct";
  const last = summary.lastMessage;
  if (unsent) {
    const [label, mark] = STATUS_TEXT[unsent.status];
    return (
      <>
        <span className={`parley-status parley-status-${unsent.status}`} data-status={unsent.status} role="img" aria-label={label} title={label}>
          {unsent.status === "pending" ? <Icon name="clock" size={12} /> : mark}
        </span>
        {messagePreview({ ...unsent, id: unsent.key, seq: 0, revSeq: 0 }, me, direct)}
      </>
    );
  }
  return (
    <>
      {ownLast && <OwnStatus conversationId={summary.id} messageId={summary.lastMessage!.id} known={summary.lastMessageStatus ?? "sent"} />}
      {messagePreview(last, me, direct || (last !== null && last.senderId === namedAfter(summary, me)))}
    </>
  );
}

/** The other person's presence dot on a direct conversation's avatar. */
function RowPresence({ userId }: { userId: string }) {
  const online = usePresence([userId])[userId]?.online === true;
  return online ? <span className="parley-avatar-dot" aria-hidden="true" /> : null;
}

/** A conversation's title: its own, or the other members' names. */
export function conversationTitle(conversation: ConversationSummary, me: string | null): string {
  if (conversation.title) return conversation.title;
  // A support conversation is named after its visitor, who opened it (for the visitor: "Support").
  if (conversation.kind === "support") {
    const visitor = visitorOf(conversation);
    return visitor && visitor.userId !== me ? visitor.name : "Support";
  }
  const others = conversation.members.filter((m) => m.userId !== me).map((m) => m.name);
  if (others.length > 0) return others.join(", ");
  return "Conversation";
}

/**
 * The last message in a few words: "You: …", "Bob: …" in groups, attachments
 * in words. `direct`: the message is from the person the conversation is
 * named after, so their name is left out.
 */
export function messagePreview(message: Message | null, me: string | null, direct: boolean): string {
  if (!message) return "";
  let body: string;
  if (message.deletedAt) body = "Message deleted";
  else if (message.text) body = message.text;
  else if (message.attachments.length > 0) {
    const first = message.attachments[0]!;
    body = first.mimeType.startsWith("image/") ? "📷 Photo" : `📎 ${first.name}`;
  } else body = "";
  if (message.type === "system") return body;
  if (message.senderId === me) return `You: ${body}`;
  return direct ? body : `${message.senderName}: ${body}`;
}

/**
 * The user's conversations, most recent first: title, last message, time
 * and unread badge (99+), kept live. A list box navigable with the arrow
 * keys; Enter or a click selects.
 *
 * @example
 * <ConversationList selectedId={id} onSelect={setId} />
 */
export function ConversationList(props: ConversationListProps) {
  const { selectedId = null, onSelect, emptyText = "No conversations yet", filter, className } = props;
  const inbox = useInbox();
  const { status, hasMore, loadingMore, loadMore } = inbox;
  const conversations = filter ? inbox.conversations.filter(filter) : inbox.conversations;
  const { user } = useConnection();
  const me = user?.id ?? null;
  const listRef = useRef<HTMLUListElement>(null);
  const now = useNow();

  const onKeyDown = (e: KeyboardEvent<HTMLLIElement>, index: number) => {
    const options = listRef.current?.querySelectorAll<HTMLElement>("[role=option]");
    if (!options) return;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      const next = options[Math.min(options.length - 1, Math.max(0, index + (e.key === "ArrowDown" ? 1 : -1)))];
      next?.focus();
    } else if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      const id = conversations[index]?.id;
      if (id) onSelect?.(id);
    }
  };

  if (status === "ready" && conversations.length === 0) {
    return <p className={`parley-conversation-list-empty${className ? ` ${className}` : ""}`}>{emptyText}</p>;
  }
  return (
    <div className={`parley-conversation-list${className ? ` ${className}` : ""}`}>
      <ul ref={listRef} role="listbox" aria-label="Conversations">
        {conversations.map((c, index) => {
          const title = conversationTitle(c, me);
          const when = c.lastMessageAt ?? c.createdAt;
          const other = c.kind === "direct" ? c.members.find((m) => m.userId !== me) : undefined;
          const ownLast = c.lastMessage !== null && c.lastMessage.senderId === me && !c.lastMessage.deletedAt && c.lastMessage.type !== "system";
          return (
            <li
              key={c.id}
              role="option"
              aria-selected={c.id === selectedId}
              tabIndex={c.id === selectedId || (selectedId === null && index === 0) ? 0 : -1}
              className="parley-conversation-row"
              data-unread={c.unreadCount > 0}
              onClick={() => onSelect?.(c.id)}
              onKeyDown={(e) => onKeyDown(e, index)}
            >
              <span className="parley-conversation-avatar">
                {c.kind === "channel" ? (
                  <span className="parley-avatar parley-channel-avatar" aria-hidden="true">
                    #
                  </span>
                ) : (
                  <Avatar userId={other?.userId ?? c.id} name={title} size={40} />
                )}
                {other && <RowPresence userId={other.userId} />}
              </span>
              <span className="parley-conversation-title">
                {title}
                {c.status === "closed" && <span className="parley-conversation-closed">{c.kind === "support" ? "Resolved" : "Closed"}</span>}
              </span>
              <span className="parley-conversation-preview" dir="auto">
                <RowPreview summary={c} me={me} ownLast={ownLast} />
              </span>
              <time className="parley-conversation-time" dateTime={when}>
                {relativeTime(when, now)}
              </time>
              {c.unreadCount > 0 && (
                <span className="parley-unread-badge" aria-label={`${c.unreadCount} unread`}>
                  {badge(c.unreadCount)}
                </span>
              )}
            </li>
          );
        })}
      </ul>
      {hasMore && (
        <button type="button" onClick={() => void loadMore().catch(() => undefined)} disabled={loadingMore}>
          {loadingMore ? "Loading…" : "Load more"}
        </button>
      )}
    </div>
  );
}
