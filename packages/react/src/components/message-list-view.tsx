import { useEffect, useLayoutEffect, useRef, useState, type KeyboardEvent, type ReactNode } from "react";
import type { ChatMessage } from "@parley/client";
import { dayKey, dayLabel, isEmojiOnly, timeOfDay } from "../format.js";
import { MessageText } from "./message-text.js";
import { useScrollAnchor } from "./use-scroll-anchor.js";

/** Props of {@link MessageListView}. */
export interface MessageListViewProps {
  /** Stored messages by `seq`, then pending and failed ones (as the SDK gives them). */
  messages: readonly ChatMessage[];
  /** Show each group's sender name (groups, channels, support); direct conversations do not need it. @default true */
  showSenderNames?: boolean;
  /** An "Unread messages" divider goes before the first message from others after this `seq`. @default null (none) */
  unreadAfterSeq?: number | null;
  /** Older messages exist: a "Load older messages" button shows at the top. @default false */
  hasOlder?: boolean;
  loadingOlder?: boolean;
  onLoadOlder?: () => void;
  onRetry?: (clientId: string) => void;
  onDiscard?: (clientId: string) => void;
  /** Edits the user's own message; the list shows inline Save and Cancel. */
  onEdit?: (messageId: string, text: string) => unknown;
  /** Deletes a message (after the user confirmed). */
  onDelete?: (messageId: string) => unknown;
  /** Adds or removes the user's reaction. */
  onReact?: (messageId: string, emoji: string, on: boolean) => unknown;
  /** Called while the newest message is in view (e.g. to mark the conversation read). */
  onBottomVisible?: () => void;
  /** The signed-in user's id (whose reactions are "mine"). */
  currentUserId?: string | null;
  /** Shown when there are no messages. @default "No messages yet — say hello" */
  emptyText?: ReactNode;
  /** Quick reaction offered on every message. @default "👍" */
  quickReaction?: string;
  className?: string;
  /** "Today" is relative to this. @default the current time */
  now?: Date;
}

interface Group {
  key: string;
  day: string;
  senderId: string;
  senderName: string;
  own: boolean;
  system: boolean;
  messages: ChatMessage[];
}

function groupMessages(messages: readonly ChatMessage[]): Group[] {
  const groups: Group[] = [];
  for (const message of messages) {
    const day = dayKey(message.createdAt);
    const system = message.type === "system";
    const last = groups[groups.length - 1];
    if (last && !system && !last.system && last.senderId === message.senderId && last.day === day) {
      last.messages.push(message);
    } else {
      groups.push({
        key: message.key,
        day,
        senderId: message.senderId,
        senderName: message.senderName,
        own: message.own,
        system,
        messages: [message],
      });
    }
  }
  return groups;
}

const STATUS_LABEL = { pending: "Sending", sent: "Sent", delivered: "Delivered", read: "Read", failed: "Not sent" } as const;

function StatusMark({ message }: { message: ChatMessage }) {
  if (!message.own || message.type === "system") return null;
  const { status } = message;
  const readers = message.readBy.map((r) => r.name).join(", ");
  const title = status === "read" && readers ? `Read by ${readers}` : STATUS_LABEL[status];
  const mark = status === "pending" ? "🕓" : status === "sent" ? "✓" : status === "failed" ? "!" : "✓✓";
  return (
    <span className={`parley-status parley-status-${status}`} data-status={status} role="img" aria-label={title} title={title}>
      {mark}
    </span>
  );
}

function Attachments({ message, onResize }: { message: ChatMessage; onResize: () => void }) {
  if (message.attachments.length === 0) return null;
  return (
    <div className="parley-attachments">
      {message.attachments.map((a) =>
        a.mimeType.startsWith("image/") ? (
          <a key={a.id} href={a.url} target="_blank" rel="noopener noreferrer" className="parley-attachment-image">
            <img src={a.url} alt={a.name} width={a.width} height={a.height} loading="lazy" onLoad={onResize} />
          </a>
        ) : (
          <a key={a.id} href={a.url} target="_blank" rel="noopener noreferrer" download={a.name} className="parley-attachment-file">
            📎 {a.name}
          </a>
        ),
      )}
    </div>
  );
}

function Reactions({ message, me, onReact }: { message: ChatMessage; me: string | null; onReact?: MessageListViewProps["onReact"] }) {
  const entries = Object.entries(message.reactions).filter(([, users]) => users.length > 0);
  if (entries.length === 0 || message.id === null) return null;
  const id = message.id;
  return (
    <div className="parley-reactions">
      {entries.map(([emoji, users]) => {
        const mine = me !== null && users.includes(me);
        return (
          <button
            key={emoji}
            type="button"
            className="parley-reaction"
            aria-pressed={mine}
            title={users.join(", ")}
            aria-label={`${emoji} ${users.length}, by ${users.join(", ")}`}
            onClick={() => onReact?.(id, emoji, !mine)}
          >
            {emoji} {users.length}
          </button>
        );
      })}
    </div>
  );
}

function MessageItem(props: {
  message: ChatMessage;
  me: string | null;
  quickReaction: string;
  onResize: () => void;
} & Pick<MessageListViewProps, "onRetry" | "onDiscard" | "onEdit" | "onDelete" | "onReact">) {
  const { message, me, quickReaction, onResize, onRetry, onDiscard, onEdit, onDelete, onReact } = props;
  const [editing, setEditing] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const deleted = message.deletedAt !== null;
  const stored = message.id !== null;

  if (message.type === "system") {
    return (
      <div className="parley-system" data-seq={message.seq ?? undefined}>
        {message.text}
      </div>
    );
  }

  const saveEdit = () => {
    if (editing === null || message.id === null) return;
    const text = editing.trim();
    if (text && text !== message.text) void onEdit?.(message.id, text);
    setEditing(null);
  };
  const onEditKey = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === "Escape") {
      e.preventDefault();
      setEditing(null);
    } else if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      saveEdit();
    }
  };
  const mine = me !== null && (message.reactions[quickReaction] ?? []).includes(me);

  return (
    <div
      className={`parley-message${message.own ? " parley-own" : ""}${deleted ? " parley-deleted" : ""}`}
      data-key={message.key}
      data-seq={message.seq ?? undefined}
      data-status={message.status}
    >
      {deleted ? (
        <span className="parley-deleted-text">Message deleted</span>
      ) : editing !== null ? (
        <div className="parley-edit">
          <textarea aria-label="Edit message" value={editing} onChange={(e) => setEditing(e.target.value)} onKeyDown={onEditKey} autoFocus />
          <button type="button" onClick={saveEdit}>
            Save
          </button>
          <button type="button" onClick={() => setEditing(null)}>
            Cancel
          </button>
        </div>
      ) : (
        <>
          {message.text !== null && message.text !== "" && (
            <div className={`parley-text${isEmojiOnly(message.text) ? " parley-emoji-only" : ""}`}>
              <MessageText text={message.text} />
            </div>
          )}
          <Attachments message={message} onResize={onResize} />
        </>
      )}
      <div className="parley-meta">
        {message.editedAt !== null && !deleted && <span className="parley-edited">(edited)</span>}
        <time dateTime={message.createdAt}>{timeOfDay(message.createdAt)}</time>
        <StatusMark message={message} />
      </div>
      {message.status === "failed" && message.clientId !== null && (
        <div className="parley-failed" role="alert">
          <span>Not sent{message.error ? `: ${message.error.message}` : ""}</span>
          <button type="button" onClick={() => onRetry?.(message.clientId!)}>
            Retry
          </button>
          <button type="button" onClick={() => onDiscard?.(message.clientId!)}>
            Discard
          </button>
        </div>
      )}
      {!deleted && <Reactions message={message} me={me} onReact={onReact} />}
      {stored && !deleted && editing === null && (
        <div className="parley-actions">
          {confirming ? (
            <>
              <span>Delete this message?</span>
              <button
                type="button"
                onClick={() => {
                  setConfirming(false);
                  void onDelete?.(message.id!);
                }}
              >
                Delete
              </button>
              <button type="button" onClick={() => setConfirming(false)}>
                Cancel
              </button>
            </>
          ) : (
            <>
              {onReact && (
                <button type="button" aria-label={`React ${quickReaction}`} aria-pressed={mine} onClick={() => onReact(message.id!, quickReaction, !mine)}>
                  {quickReaction}
                </button>
              )}
              {message.own && onEdit && message.text !== null && (
                <button type="button" onClick={() => setEditing(message.text ?? "")}>
                  Edit
                </button>
              )}
              {message.own && onDelete && (
                <button type="button" onClick={() => setConfirming(true)}>
                  Delete
                </button>
              )}
            </>
          )}
        </div>
      )}
    </div>
  );
}

/** The newest message from others that arrived after the list was shown, for screen readers. */
function useAnnouncement(messages: readonly ChatMessage[]): string {
  const [text, setText] = useState("");
  const seen = useRef<string | null | undefined>(undefined);
  const latest = [...messages].reverse().find((m) => !m.own && m.seq !== null && m.type !== "system");
  useEffect(() => {
    const key = latest?.key ?? null;
    if (seen.current === undefined) {
      seen.current = key;
      return;
    }
    if (key === seen.current || !latest) return;
    seen.current = key;
    setText(`${latest.senderName}: ${latest.deletedAt ? "Message deleted" : (latest.text ?? "attachment")}`);
  }, [latest]);
  return text;
}

/**
 * A conversation's messages, drawn from data (see `MessageList` for the
 * version bound to a conversation): day separators, consecutive messages of
 * one sender grouped under one name, ✓ / ✓✓ / read marks on the user's own
 * messages, "(edited)", "Message deleted", reactions, attachments, failed
 * messages with Retry, and scrolling that never pulls a reader out of history.
 * Text is always rendered as text.
 */
export function MessageListView(props: MessageListViewProps) {
  const {
    messages,
    showSenderNames = true,
    unreadAfterSeq = null,
    hasOlder = false,
    loadingOlder = false,
    onLoadOlder,
    onBottomVisible,
    currentUserId = null,
    emptyText = "No messages yet — say hello",
    quickReaction = "👍",
    className,
    now,
  } = props;
  const ref = useRef<HTMLDivElement>(null);
  const anchor = useScrollAnchor(ref, messages);
  const groups = groupMessages(messages);
  const firstUnread =
    unreadAfterSeq === null ? undefined : messages.find((m) => !m.own && m.seq !== null && m.seq > unreadAfterSeq && m.type !== "system");

  // Opening a conversation with unread messages starts at the first of them, once.
  const shownUnread = useRef(false);
  const { onScroll } = anchor;
  const firstUnreadKey = firstUnread?.key;
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el || firstUnreadKey === undefined || shownUnread.current) return;
    shownUnread.current = true;
    const divider = el.querySelector<HTMLElement>(".parley-unread-divider");
    if (divider) {
      el.scrollTop = Math.max(0, divider.offsetTop - el.offsetTop);
      onScroll();
    }
  }, [firstUnreadKey, onScroll]);

  const { isAtBottom } = anchor;
  useEffect(() => {
    if (anchor.atBottom && isAtBottom()) onBottomVisible?.();
  }, [anchor.atBottom, isAtBottom, messages, onBottomVisible]);
  const announcement = useAnnouncement(messages);

  let lastDay: string | null = null;
  return (
    <div className={`parley-message-list${className ? ` ${className}` : ""}`}>
      <div ref={ref} className="parley-scroll" role="log" aria-label="Messages" aria-live="off" onScroll={anchor.onScroll} tabIndex={0}>
        {hasOlder && (
          <button type="button" className="parley-load-older" onClick={onLoadOlder} disabled={loadingOlder}>
            {loadingOlder ? "Loading…" : "Load older messages"}
          </button>
        )}
        {messages.length === 0 && <p className="parley-empty">{emptyText}</p>}
        {groups.map((group) => {
          const separator =
            group.day !== lastDay ? (
              <div className="parley-day" role="separator" aria-label={dayLabel(group.messages[0]!.createdAt, now)}>
                {dayLabel(group.messages[0]!.createdAt, now)}
              </div>
            ) : null;
          lastDay = group.day;
          return (
            <div key={group.key} className="parley-group-wrap">
              {separator}
              {group.messages.map((message, index) => (
                <div key={message.key} className="parley-row">
                  {message === firstUnread && (
                    <div className="parley-unread-divider" role="separator" aria-label="Unread messages">
                      Unread messages
                    </div>
                  )}
                  {index === 0 && !group.system && showSenderNames && !group.own && (
                    <div className="parley-sender">{group.senderName}</div>
                  )}
                  <MessageItem {...props} message={message} me={currentUserId} quickReaction={quickReaction} onResize={anchor.onContentResize} />
                </div>
              ))}
            </div>
          );
        })}
      </div>
      <div className="parley-sr-only" aria-live="polite">
        {announcement}
      </div>
      {anchor.newCount > 0 && (
        <button type="button" className="parley-new-messages" onClick={anchor.scrollToBottom}>
          {anchor.newCount === 1 ? "1 new message" : `${anchor.newCount} new messages`}
        </button>
      )}
    </div>
  );
}
