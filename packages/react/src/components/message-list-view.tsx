import { useCallback, useEffect, useLayoutEffect, useRef, useState, type FocusEvent, type KeyboardEvent, type ReactNode, type SyntheticEvent } from "react";
import type { ChatMessage } from "@parley/client";
import type { Attachment, DeleteScope, Member } from "@parley/protocol";
import { dayKey, dayLabel, isEmojiOnly, timeOfDay } from "../format.js";
import { Avatar } from "./avatar.js";
import { Icon } from "./icon.js";
import { ImageViewer } from "./image-viewer.js";
import { Menu, type MenuItem } from "./message-actions.js";
import { MessageText } from "./message-text.js";
import { useScrollAnchor } from "./use-scroll-anchor.js";

/** Props of {@link MessageListView}. */
export interface MessageListViewProps {
  /** Stored messages by `seq`, then pending and failed ones (as the SDK gives them). */
  messages: readonly ChatMessage[];
  /** Show each group's sender name (groups, channels, support); direct conversations do not need it. @default true */
  showSenderNames?: boolean;
  /** Show an avatar with initials beside each group of messages from others. @default true */
  showAvatars?: boolean;
  /** An "Unread messages" divider goes before the first message from others after this `seq`. @default null (none) */
  unreadAfterSeq?: number | null;
  /** Older messages exist: a "Load older messages" button shows at the top. @default false */
  hasOlder?: boolean;
  loadingOlder?: boolean;
  onLoadOlder?: () => void;
  /**
   * Newer messages exist than those given (the list shows a window opened at the first unread message of a
   * long backlog): "Load newer messages" shows at the bottom, and "Jump to latest" over the list. @default false
   */
  hasNewer?: boolean;
  loadingNewer?: boolean;
  /**
   * Called when the reader reaches the bottom of a window (or presses "Load newer messages"). When it returns
   * a promise that rejects, reaching the bottom loads no more until the button is pressed.
   */
  onLoadNewer?: () => unknown;
  /** Called for "Jump to latest": show the newest messages. */
  onJumpToLatest?: () => void;
  /** While `hasNewer`: messages from others that arrived since, counted on the "Jump to latest" button ("3 new messages"). */
  newerCount?: number;
  /**
   * Opens the list at `seq` instead (see `openAt` of the SDK): given, a first unread message more than a few
   * pages back is shown this way, in one step, rather than by loading every page after it.
   */
  onOpenAt?: (seq: number) => unknown;
  /** Messages that replies quote, by id, when they are not among `messages` (see the SDK's `quoted`). */
  quoted?: Readonly<Record<string, ChatMessage>>;
  onRetry?: (clientId: string) => void;
  onDiscard?: (clientId: string) => void;
  /** Edits the user's own message; the list shows inline Save and Cancel. */
  onEdit?: (messageId: string, text: string) => unknown;
  /** Deletes a message for everyone, or hides it for the user (`"me"`), after the user confirmed. */
  onDelete?: (messageId: string, scope: DeleteScope) => unknown;
  /** Adds or removes the user's reaction. */
  onReact?: (messageId: string, emoji: string, on: boolean) => unknown;
  /** The user chose Reply on a message. */
  onReply?: (messageId: string) => unknown;
  /** The message being edited inline (controlled); leave unset to let the list keep it. */
  editingId?: string | null;
  onEditingChange?: (messageId: string | null) => void;
  /** The user may delete others' messages for everyone (a moderator). @default false */
  canDeleteForEveryone?: boolean;
  /**
   * Called while the newest message is in view (e.g. to mark the conversation read); never while the list
   * is still finding the first unread message on opening.
   */
  onBottomVisible?: () => void;
  /** Called when the bottom of the list comes into view (`true`) or leaves it (`false`). */
  onAtBottomChange?: (atBottom: boolean) => void;
  /** The conversation's members with their read and delivery positions, to say who read or received each of the user's messages. */
  members?: readonly ReceiptMember[];
  /** The signed-in user's id (whose reactions are "mine"). */
  currentUserId?: string | null;
  /** Names by user id, to say who reacted. @default the ids */
  userNames?: Readonly<Record<string, string>>;
  /** Shown when there are no messages. @default "No messages yet — say hello" */
  emptyText?: ReactNode;
  /** Reactions offered on every message. @default ["👍", "❤️", "😂", "😮", "😢", "🙏"] */
  reactionChoices?: readonly string[];
  className?: string;
  /** "Today" is relative to this. @default the current time */
  now?: Date;
  /** A short message over the list, e.g. why an action failed (announced as an alert). */
  notice?: ReactNode;
  /**
   * Messages from others with a `seq` above this one are announced to screen
   * readers as they arrive (politely, a few seconds apart); those up to it were
   * there before. `null` while that is not known yet (the conversation is
   * loading): nothing is announced meanwhile. Unset: the messages of the first
   * render were there before.
   */
  announceAfterSeq?: number | null;
  /**
   * A message to bring into view and highlight once the list has opened (a
   * search result, a link): opened at with `onOpenAt` when it is not loaded.
   * Each new object asks again.
   */
  focus?: MessageFocus | null;
}

/** What the list needs of a member to say who read or received a message. */
export type ReceiptMember = Pick<Member, "userId" | "name" | "lastReadSeq" | "lastDeliveredSeq">;

/** Pages of older messages loaded at most, on opening, to reach the first unread message. */
const MAX_UNREAD_PAGES = 10;

/**
 * With `onOpenAt`, a first unread message more than this many messages before the oldest loaded one is opened
 * at directly (the newest stay out of sight until the reader gets there), not reached a page at a time.
 */
const OPEN_AT_DISTANCE = 150;

/** What Tab can reach inside a message (elements given their own `tabIndex` by the list keep it). */
const FOCUSABLE = "a[href], button:not([disabled]), textarea, input, select";

/**
 * Puts only the controls of the message keyed `activeKey` (when it is in
 * the list; else the newest message's) in the Tab order: a long
 * conversation is one stop on the way to the composer, not one per message.
 */
function applyRoving(list: HTMLElement, activeKey: string | null): void {
  const items = [...list.querySelectorAll<HTMLElement>(".parley-message[data-key]")];
  const active = items.some((i) => i.dataset.key === activeKey) ? activeKey : (items.at(-1)?.dataset.key ?? null);
  for (const item of items) {
    const inOrder = item.dataset.key === active;
    for (const control of item.querySelectorAll<HTMLElement>(FOCUSABLE)) {
      const ours = control.dataset.roving === "1";
      if (inOrder) {
        if (ours) {
          control.removeAttribute("tabindex");
          delete control.dataset.roving;
        }
      } else if (ours || !control.hasAttribute("tabindex")) {
        control.tabIndex = -1;
        control.dataset.roving = "1";
      }
    }
  }
}

/** The first control of a message to focus from the keyboard: its "More actions" button, else the first one. */
function firstControl(item: Element): HTMLElement | null {
  return item.querySelector<HTMLElement>('[aria-label="More actions"]') ?? item.querySelector<HTMLElement>(FOCUSABLE);
}

const byIdSelector = (id: string) => `[data-id="${id.replace(/["\\]/g, "\\$&")}"]`;

const NO_MEMBERS: readonly ReceiptMember[] = [];

const DEFAULT_REACTIONS = ["👍", "❤️", "😂", "😮", "😢", "🙏"] as const;

interface Group {
  key: string;
  day: string;
  senderId: string;
  senderName: string;
  own: boolean;
  system: boolean;
  unread: boolean;
  messages: ChatMessage[];
}

function groupMessages(messages: readonly ChatMessage[], firstUnread: ChatMessage | undefined): Group[] {
  const groups: Group[] = [];
  for (const message of messages) {
    const day = dayKey(message.createdAt);
    const system = message.type === "system";
    const last = groups[groups.length - 1];
    if (last && !system && !last.system && last.senderId === message.senderId && last.day === day && message !== firstUnread) {
      last.messages.push(message);
    } else {
      groups.push({
        key: message.key,
        day,
        senderId: message.senderId,
        senderName: message.senderName,
        own: message.own,
        system,
        unread: message === firstUnread,
        messages: [message],
      });
    }
  }
  return groups;
}

const STATUS_LABEL = { pending: "Sending", sent: "Sent", delivered: "Delivered", read: "Read", failed: "Not sent" } as const;

/**
 * The status's words, naming who has read the message (even when not everyone has yet)
 * and who else has received it: "Read by Bob, Dave; delivered to Carol".
 */
function statusTitle(message: ChatMessage, members: readonly ReceiptMember[]): string {
  const { status, seq } = message;
  const label = STATUS_LABEL[status];
  if (seq === null || status === "pending" || status === "failed") return label;
  const readerIds = new Set(message.readBy.map((r) => r.userId));
  const readers = message.readBy.map((r) => r.name);
  const delivered = members
    .filter((m) => m.userId !== message.senderId && !readerIds.has(m.userId) && m.lastReadSeq < seq && m.lastDeliveredSeq >= seq)
    .map((m) => m.name);
  if (readers.length === 0) return status === "sent" && delivered.length > 0 ? `${label}; delivered to ${delivered.join(", ")}` : label;
  const read = `Read by ${readers.join(", ")}`;
  return delivered.length > 0 ? `${read}; delivered to ${delivered.join(", ")}` : read;
}

function StatusMark({ message, members }: { message: ChatMessage; members: readonly ReceiptMember[] }) {
  // A deleted message has nothing left to be read.
  if (!message.own || message.type === "system" || message.deletedAt !== null) return null;
  const { status } = message;
  const title = statusTitle(message, members);
  const mark = status === "pending" ? <Icon name="clock" size={12} /> : status === "sent" ? "✓" : status === "failed" ? "!" : "✓✓";
  return (
    <span className={`parley-status parley-status-${status}`} data-status={status} role="img" aria-label={title} title={title}>
      {mark}
    </span>
  );
}

function fileSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

function Attachments(props: { message: ChatMessage; onResize: () => void; onView: (a: Attachment) => void }) {
  const { message, onResize, onView } = props;
  if (message.attachments.length === 0) return null;
  return (
    <div className="parley-attachments">
      {message.attachments.map((a) =>
        a.mimeType.startsWith("image/") ? (
          <button key={a.id} type="button" className="parley-attachment-image" title="Open image" onClick={() => onView(a)}>
            <img src={a.url} alt={a.name} width={a.width} height={a.height} loading="lazy" onLoad={onResize} />
          </button>
        ) : (
          <a key={a.id} href={a.url} target="_blank" rel="noopener noreferrer" download={a.name} className="parley-attachment-file">
            <Icon name="file" size={16} /> {a.name}
            <span className="parley-attachment-size" aria-hidden="true">
              {" "}
              {fileSize(a.size)}
            </span>
          </a>
        ),
      )}
    </div>
  );
}

function Reactions(props: { message: ChatMessage; me: string | null; names?: Readonly<Record<string, string>>; onReact?: MessageListViewProps["onReact"] }) {
  const { message, me, names, onReact } = props;
  const entries = Object.entries(message.reactions).filter(([, users]) => users.length > 0);
  if (entries.length === 0 || message.id === null) return null;
  const id = message.id;
  return (
    <div className="parley-reactions">
      {entries.map(([emoji, users]) => {
        const mine = me !== null && users.includes(me);
        const who = users.map((u) => (u === me ? "you" : (names?.[u] ?? u))).join(", ");
        return (
          <button
            key={emoji}
            type="button"
            className="parley-reaction"
            aria-pressed={mine}
            title={who}
            aria-label={`${emoji} ${users.length}, by ${who}`}
            onClick={() => onReact?.(id, emoji, !mine)}
          >
            {emoji} {users.length}
          </button>
        );
      })}
    </div>
  );
}

/** A few words of a message, for reply quotes. */
export function messageSnippet(message: Pick<ChatMessage, "text" | "attachments" | "deletedAt">): string {
  if (message.deletedAt) return "Message deleted";
  if (message.text) return message.text.length > 120 ? `${message.text.slice(0, 120)}…` : message.text;
  const first = message.attachments[0];
  if (!first) return "";
  return first.mimeType.startsWith("image/") ? "📷 Photo" : `📎 ${first.name}`;
}

function ReplyQuote({ original, onJump }: { original: ChatMessage | undefined; onJump: () => void }) {
  if (!original) {
    return (
      <button type="button" className="parley-reply-quote" onClick={onJump} aria-label="Reply to an earlier message">
        <span className="parley-reply-text">Earlier message</span>
      </button>
    );
  }
  const snippet = messageSnippet(original);
  return (
    <button type="button" className="parley-reply-quote" onClick={onJump} aria-label={`Reply to ${original.senderName}: ${snippet}`}>
      <span className="parley-reply-name">{original.senderName}</span>
      <span className="parley-reply-text" dir="auto">
        {snippet}
      </span>
    </button>
  );
}

type ItemProps = {
  message: ChatMessage;
  original: ChatMessage | undefined;
  me: string | null;
  reactions: readonly string[];
  editing: boolean;
  setEditing: (messageId: string | null) => void;
  canDeleteForEveryone: boolean;
  onResize: () => void;
  onView: (a: Attachment) => void;
  onJump: (messageId: string) => void;
  receiptMembers: readonly ReceiptMember[];
} & Pick<MessageListViewProps, "onRetry" | "onDiscard" | "onEdit" | "onDelete" | "onReact" | "onReply" | "userNames">;

function copyText(text: string): void {
  if (typeof navigator !== "undefined" && navigator.clipboard) navigator.clipboard.writeText(text).catch(() => undefined);
}

/** Height the hover toolbar takes above a message (`.parley-actions`: 30 px and its gap). */
const ACTIONS_ROOM = 34;

/** A message for the list to show (see `MessageListViewProps.focus`). */
export interface MessageFocus {
  messageId: string;
  seq: number;
}

function MessageItem(props: ItemProps) {
  const { message, original, me, reactions, editing, setEditing, canDeleteForEveryone, onResize, onView, onJump } = props;
  const { onRetry, onDiscard, onEdit, onDelete, onReact, onReply } = props;
  const [draft, setDraft] = useState("");
  const [confirming, setConfirming] = useState(false);
  // The question shows under the message: on the last one it would be below the fold, so it is brought into view.
  const confirmBox = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (confirming) confirmBox.current?.scrollIntoView?.({ block: "nearest" });
  }, [confirming]);
  const [menuOpen, setMenuOpen] = useState(false);
  // The toolbar shows above the message, unless the list's top edge would cut it off: then over the bubble's top.
  const [actionsInside, setActionsInside] = useState(false);
  const placeActions = (e: SyntheticEvent<HTMLDivElement>) => {
    const scroller = e.currentTarget.closest(".parley-scroll");
    if (!scroller) return;
    setActionsInside(e.currentTarget.getBoundingClientRect().top - scroller.getBoundingClientRect().top < ACTIONS_ROOM);
  };
  const deleted = message.deletedAt !== null;
  const stored = message.id !== null;
  const id = message.id;

  useEffect(() => {
    if (editing) setDraft(message.text ?? "");
  }, [editing, message.text]);

  if (message.type === "system") {
    return (
      <div className="parley-system" data-seq={message.seq ?? undefined}>
        {message.text}
      </div>
    );
  }

  const saveEdit = () => {
    if (id === null) return;
    const text = draft.trim();
    if (text && text !== message.text) void onEdit?.(id, text);
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

  const canEdit = message.own && !!onEdit && message.text !== null && message.text !== "";
  const canDelete = !!onDelete;
  const mayDeleteForEveryone = message.own || canDeleteForEveryone;
  const react = (emoji: string) => {
    if (id === null) return;
    const mine = me !== null && (message.reactions[emoji] ?? []).includes(me);
    void onReact?.(id, emoji, !mine);
  };
  const moreItems: MenuItem[] = [];
  if (id !== null && onReply) moreItems.push({ label: "Reply", onSelect: () => void onReply(id) });
  if (message.text) moreItems.push({ label: "Copy", onSelect: () => copyText(message.text ?? "") });
  if (canEdit) moreItems.push({ label: "Edit", onSelect: () => setEditing(id) });
  if (canDelete) moreItems.push({ label: "Delete", onSelect: () => setConfirming(true), danger: true });

  return (
    <div
      className={`parley-message${message.own ? " parley-own" : ""}${deleted ? " parley-deleted" : ""}${menuOpen ? " parley-menu-open" : ""}`}
      data-actions={actionsInside ? "inside" : undefined}
      onMouseEnter={placeActions}
      onFocus={placeActions}
      data-key={message.key}
      data-id={id ?? undefined}
      data-seq={message.seq ?? undefined}
      data-status={message.status}
    >
      <div className="parley-bubble">
        {message.replyTo !== null && !deleted && <ReplyQuote original={original} onJump={() => onJump(message.replyTo!)} />}
        {deleted ? (
          <span className="parley-deleted-text">Message deleted</span>
        ) : editing ? (
          <div className="parley-edit">
            <textarea aria-label="Edit message" value={draft} onChange={(e) => setDraft(e.target.value)} onKeyDown={onEditKey} autoFocus />
            <div className="parley-edit-buttons">
              <button type="button" onClick={() => setEditing(null)}>
                Cancel
              </button>
              <button type="button" className="parley-primary" onClick={saveEdit}>
                Save
              </button>
            </div>
          </div>
        ) : (
          <>
            {message.text !== null && message.text !== "" && (
              <div className={`parley-text${isEmojiOnly(message.text) ? " parley-emoji-only" : ""}`} dir="auto">
                <MessageText text={message.text} />
              </div>
            )}
            <Attachments message={message} onResize={onResize} onView={onView} />
          </>
        )}
        <div className="parley-meta">
          {message.editedAt !== null && !deleted && <span className="parley-edited">(edited)</span>}
          <time dateTime={message.createdAt} title={new Date(message.createdAt).toLocaleString()}>
            {timeOfDay(message.createdAt)}
          </time>
          <StatusMark message={message} members={props.receiptMembers} />
        </div>
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
      {!deleted && <Reactions message={message} me={me} names={props.userNames} onReact={onReact} />}
      {confirming && id !== null && (
        <div
          ref={confirmBox}
          className="parley-confirm"
          role="group"
          aria-label="Delete this message?"
          onKeyDown={(e) => {
            if (e.key === "Escape") {
              e.preventDefault();
              setConfirming(false);
            }
          }}
        >
          <span>Delete this message?</span>
          {mayDeleteForEveryone && (
            <button
              type="button"
              className="parley-danger"
              autoFocus
              onClick={() => {
                setConfirming(false);
                void onDelete?.(id, "everyone");
              }}
            >
              Delete for everyone
            </button>
          )}
          <button
            type="button"
            autoFocus={!mayDeleteForEveryone}
            onClick={() => {
              setConfirming(false);
              void onDelete?.(id, "me");
            }}
          >
            Delete for me
          </button>
          <button type="button" onClick={() => setConfirming(false)}>
            Cancel
          </button>
        </div>
      )}
      {stored && !deleted && !editing && !confirming && id !== null && (
        <div className="parley-actions">
          {onReact && (
            <Menu
              label="React"
              icon={<Icon name="smile" />}
              className="parley-hover-only"
              tabIndex={-1}
              menuClassName="parley-reaction-menu"
              onOpenChange={setMenuOpen}
              items={reactions.map((emoji) => ({ label: `React with ${emoji}`, content: emoji, onSelect: () => react(emoji) }))}
            />
          )}
          {onReply && (
            <button type="button" className="parley-action parley-hover-only" tabIndex={-1} aria-label="Reply" title="Reply" onClick={() => void onReply(id)}>
              <Icon name="reply" />
            </button>
          )}
          {canEdit && (
            <button type="button" className="parley-action parley-hover-only" tabIndex={-1} aria-label="Edit" title="Edit" onClick={() => setEditing(id)}>
              <Icon name="edit" />
            </button>
          )}
          {canDelete && (
            <button type="button" className="parley-action parley-hover-only" tabIndex={-1} aria-label="Delete" title="Delete" onClick={() => setConfirming(true)}>
              <Icon name="trash" />
            </button>
          )}
          {moreItems.length > 0 || onReact ? (
            <Menu
              label="More actions"
              icon={<Icon name="more" />}
              onOpenChange={setMenuOpen}
              items={[
                ...(onReact ? reactions.slice(0, 4).map((emoji) => ({ label: `React with ${emoji}`, content: emoji, onSelect: () => react(emoji) })) : []),
                ...moreItems,
              ]}
            />
          ) : null}
        </div>
      )}
    </div>
  );
}

/** The newest message from others that arrived after the list was shown, for screen readers (at most every 2 s). */
function useAnnouncement(messages: readonly ChatMessage[], afterSeq: number | null | undefined): string {
  const [text, setText] = useState("");
  // The newest seq announced, or there before; null until known.
  const through = useRef<number | null>(null);
  const lastAt = useRef(0);
  let latest: ChatMessage | undefined;
  for (let i = messages.length - 1; i >= 0 && !latest; i--) {
    const m = messages[i]!;
    if (!m.own && m.seq !== null && m.type !== "system") latest = m;
  }
  // Read once, when the baseline is taken (as a dependency, each change would cancel an announcement waiting its turn).
  const messagesNow = useRef(messages);
  messagesNow.current = messages;
  useEffect(() => {
    if (through.current === null) {
      if (afterSeq === null) return;
      through.current = afterSeq ?? messagesNow.current.reduce((max, m) => Math.max(max, m.seq ?? 0), 0);
    }
    // Older pages, a window opened further back and what was there before are not news.
    if (!latest || latest.seq === null || latest.seq <= through.current) return;
    through.current = latest.seq;
    const say = `${latest.senderName}: ${latest.deletedAt ? "Message deleted" : (latest.text ?? "attachment")}`;
    const wait = Math.max(0, lastAt.current + 2000 - Date.now());
    const timer = setTimeout(() => {
      lastAt.current = Date.now();
      setText(say);
    }, wait);
    return () => clearTimeout(timer);
  }, [latest, afterSeq]);
  return text;
}

/**
 * A conversation's messages, drawn from data (see `MessageList` for the
 * version bound to a conversation): day separators, consecutive messages of
 * one sender grouped under one name and avatar, ✓ / ✓✓ / read marks on the
 * user's own messages, "(edited)", "Message deleted", reactions, replies
 * quoting the original (a click jumps to it), images that open in a viewer,
 * actions on hover or focus (one "More actions" menu per message, which
 * holds them all; on touch screens, that menu alone), keyboard use where
 * only one message's controls are in the Tab order at a time (the one last
 * focused, at first the newest) and ↑ / ↓ move between messages, failed
 * messages with Retry, and scrolling that never pulls a reader out of
 * history. Text is always rendered as text.
 */
export function MessageListView(props: MessageListViewProps) {
  const {
    messages,
    showSenderNames = true,
    showAvatars = true,
    unreadAfterSeq = null,
    hasOlder = false,
    loadingOlder = false,
    onLoadOlder,
    hasNewer = false,
    loadingNewer = false,
    onLoadNewer,
    onJumpToLatest,
    newerCount = 0,
    onOpenAt,
    quoted,
    onBottomVisible,
    onAtBottomChange,
    members = NO_MEMBERS,
    currentUserId = null,
    emptyText = "No messages yet — say hello",
    reactionChoices = DEFAULT_REACTIONS,
    canDeleteForEveryone = false,
    editingId,
    onEditingChange,
    className,
    now,
    announceAfterSeq,
    focus = null,
  } = props;
  const ref = useRef<HTMLDivElement>(null);
  const anchor = useScrollAnchor(ref, messages, !hasNewer);
  // On opening, the list finds the first unread message (loading older pages if it is not loaded yet), then shows it, once.
  const [started, setStarted] = useState(false);
  const olderPagesForUnread = useRef(0);
  const openedAtUnread = useRef(false);
  // The jump to the first unread message has ended (shown, or failed: then the list opens at the oldest loaded).
  const [openSettled, setOpenSettled] = useState(false);
  // A page towards the newest failed: no more are fetched by themselves (the button retries).
  const [newerFailed, setNewerFailed] = useState(false);
  const loadNewer = useCallback(() => {
    Promise.resolve(onLoadNewer?.()).then(
      () => setNewerFailed(false),
      () => setNewerFailed(true),
    );
  }, [onLoadNewer]);
  const hasMessages = messages.length > 0;
  const unreadCandidate =
    unreadAfterSeq === null ? undefined : messages.find((m) => !m.own && m.seq !== null && m.seq > unreadAfterSeq && m.type !== "system");
  // The candidate is the first unread one only when nothing older is missing: all history is loaded, or a message read before is.
  const unreadKnown = unreadAfterSeq !== null && (!hasOlder || messages.some((m) => m.seq !== null && m.seq <= unreadAfterSeq));
  const firstUnread = unreadKnown || started ? unreadCandidate : undefined;
  // Until the opening position is decided, the bottom that shows is not one the reader has reached.
  const settling = unreadAfterSeq !== null && hasMessages && !started;
  const groups = groupMessages(messages, firstUnread);
  const [ownEditing, setOwnEditing] = useState<string | null>(null);
  const editing = editingId !== undefined ? editingId : ownEditing;
  const setEditing = useCallback(
    (id: string | null) => {
      setOwnEditing(id);
      onEditingChange?.(id);
    },
    [onEditingChange],
  );
  const [viewing, setViewing] = useState<Attachment | null>(null);
  const closeViewer = useCallback(() => setViewing(null), []);
  const byId = new Map<string, ChatMessage>();
  for (const m of messages) if (m.id !== null) byId.set(m.id, m);

  // Opening a conversation with unread messages starts at the first of them, once.
  const { onScroll } = anchor;

  // Keyboard: one message's controls in the Tab order (see applyRoving), ↑ / ↓ to the next message's.
  const rovingKey = useRef<string | null>(null);
  useLayoutEffect(() => {
    if (ref.current) applyRoving(ref.current, rovingKey.current);
  });
  const onListFocus = (e: FocusEvent<HTMLDivElement>) => {
    const item = (e.target as HTMLElement).closest<HTMLElement>(".parley-message[data-key]");
    if (!item || !ref.current || item.dataset.key === rovingKey.current) return;
    rovingKey.current = item.dataset.key ?? null;
    applyRoving(ref.current, rovingKey.current);
  };
  const onListKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    if (e.key !== "ArrowUp" && e.key !== "ArrowDown") return;
    const target = e.target as HTMLElement;
    // The list itself scrolls with the arrows; menus and text boxes use them for themselves.
    if (target.closest('[role="menu"], textarea, input, select')) return;
    const item = target.closest(".parley-message[data-key]");
    if (!item || !ref.current) return;
    const items = [...ref.current.querySelectorAll(".parley-message[data-key]")];
    const step = e.key === "ArrowUp" ? -1 : 1;
    for (let i = items.indexOf(item) + step; i >= 0 && i < items.length; i += step) {
      const control = firstControl(items[i]!);
      if (!control) continue;
      e.preventDefault();
      control.focus();
      return;
    }
  };
  const candidateKey = unreadCandidate?.key;
  const lastTop = useRef<number | null>(null);
  useLayoutEffect(() => {
    const el = ref.current;
    // Decided once, when the read position and the first messages are known: messages arriving later never move the view.
    if (!el || !settling) return;
    // Opened for a message asked for (a search result): that is where it starts, not at the first unread one.
    if (candidateKey === undefined || focus) {
      // Nothing unread: the list stays at the bottom.
      setStarted(true);
      return;
    }
    if (!unreadKnown && hasOlder && onOpenAt && unreadAfterSeq !== null && !openSettled) {
      // A long way back: open there in one step; more than a page back: load the pages after it first.
      const oldest = messages.find((m) => m.seq !== null)?.seq ?? 0;
      if (openedAtUnread.current) return;
      if (oldest - unreadAfterSeq > OPEN_AT_DISTANCE || olderPagesForUnread.current >= MAX_UNREAD_PAGES) {
        openedAtUnread.current = true;
        // Should it fail (the connection dropped), or not reach the message, the list opens at the oldest
        // message loaded rather than waiting for good (and not at the bottom, which would read it all).
        const settle = () => setOpenSettled(true);
        Promise.resolve(onOpenAt(unreadAfterSeq + 1)).then(settle, settle);
      } else if (!loadingOlder && onLoadOlder) {
        olderPagesForUnread.current += 1;
        onLoadOlder();
      }
      return;
    }
    if (!unreadKnown && hasOlder && onLoadOlder && !openSettled && olderPagesForUnread.current < MAX_UNREAD_PAGES) {
      // The first unread message is older than what is loaded: fetch the pages before it first (the view stays put meanwhile).
      if (!loadingOlder) {
        olderPagesForUnread.current += 1;
        onLoadOlder();
      }
      return;
    }
    setStarted(true);
    // The divider when it is drawn; when too many pages are unread to load them all, the oldest message loaded.
    const divider = el.querySelector<HTMLElement>(".parley-unread-divider");
    el.scrollTop = divider ? Math.max(0, divider.offsetTop - el.offsetTop) : 0;
    // A jump is not the reader scrolling up: it must not load an older page (which would shift what they see).
    lastTop.current = el.scrollTop;
    onScroll();
  }, [settling, candidateKey, unreadKnown, hasOlder, loadingOlder, onLoadOlder, onOpenAt, openSettled, unreadAfterSeq, messages, onScroll, focus]);

  // Editing a message brings it into view (↑ in the composer may pick one off screen).
  useEffect(() => {
    if (!editing) return;
    const el = ref.current?.querySelector<HTMLElement>(byIdSelector(editing));
    el?.scrollIntoView?.({ block: "nearest" });
  }, [editing]);

  // A quoted message that is not loaded yet: open the list at it when its place is known, else load older
  // pages until it is (a few at most); then jump.
  const pendingJump = useRef<{ id: string; pages: number; opening?: boolean; instant?: boolean } | null>(null);
  // `instant`: no smooth scrolling, and the list knows at once that it left the bottom (nothing is read or
  // loaded below on the strength of where it was).
  const jumpTo = useCallback((messageId: string, instant = false): boolean => {
    const el = ref.current?.querySelector<HTMLElement>(byIdSelector(messageId));
    if (!el) return false;
    el.scrollIntoView?.({ block: "center", behavior: instant ? "auto" : "smooth" });
    if (instant) onScroll();
    el.classList.add("parley-highlight");
    setTimeout(() => el.classList.remove("parley-highlight"), 1600);
    const bubble = el.querySelector<HTMLElement>(".parley-bubble");
    bubble?.setAttribute("tabindex", "-1");
    bubble?.focus({ preventScroll: true });
    return true;
  }, [onScroll]);
  const onJump = (messageId: string) => {
    pendingJump.current = null;
    if (jumpTo(messageId)) return;
    const known = quoted?.[messageId];
    if (known?.seq != null && onOpenAt) {
      const pending = { id: messageId, pages: 0, opening: true };
      pendingJump.current = pending;
      Promise.resolve(onOpenAt(known.seq)).catch(() => {
        if (pendingJump.current === pending) pendingJump.current = null;
      });
      return;
    }
    if (hasOlder && onLoadOlder) {
      pendingJump.current = { id: messageId, pages: 1 };
      onLoadOlder();
    }
  };
  // A message asked for from outside: shown once the list has opened (instead of at its first unread message).
  const focusAsked = useRef<MessageFocus | null>(null);
  useEffect(() => {
    if (!focus || !started || focusAsked.current === focus) return;
    focusAsked.current = focus;
    pendingJump.current = null;
    if (jumpTo(focus.messageId, true) || !onOpenAt) return;
    const pending = { id: focus.messageId, pages: 0, opening: true, instant: true };
    pendingJump.current = pending;
    Promise.resolve(onOpenAt(focus.seq)).catch(() => {
      if (pendingJump.current === pending) pendingJump.current = null;
    });
  }, [focus, started, jumpTo, onOpenAt]);
  useEffect(() => {
    const pending = pendingJump.current;
    if (!pending || loadingOlder) return;
    if (jumpTo(pending.id, pending.instant)) pendingJump.current = null;
    else if (pending.opening) return;
    else if (hasOlder && onLoadOlder && pending.pages < 20) {
      pending.pages += 1;
      onLoadOlder();
    } else pendingJump.current = null;
  }, [messages, loadingOlder, hasOlder, onLoadOlder, jumpTo]);

  // Reaching the top while scrolling up loads the page before it (the button stays for keyboards and screen readers).
  const onListScroll = () => {
    anchor.onScroll();
    const el = ref.current;
    if (!el) return;
    const goingUp = lastTop.current !== null && el.scrollTop < lastTop.current;
    lastTop.current = el.scrollTop;
    if (goingUp && el.scrollTop < 120 && hasOlder && !loadingOlder && !settling) onLoadOlder?.();
  };

  const { isAtBottom } = anchor;
  useEffect(() => {
    if (!settling && pendingJump.current === null && anchor.atBottom && isAtBottom()) onBottomVisible?.();
  }, [settling, anchor.atBottom, isAtBottom, messages, onBottomVisible]);
  // Reaching the bottom of a window of older messages loads the page after it (the button stays for keyboards).
  useEffect(() => {
    if (!settling && pendingJump.current === null && hasNewer && !loadingNewer && !newerFailed && anchor.atBottom && isAtBottom()) loadNewer();
  }, [settling, hasNewer, loadingNewer, newerFailed, anchor.atBottom, isAtBottom, messages, loadNewer]);
  useEffect(() => {
    onAtBottomChange?.(anchor.atBottom);
  }, [anchor.atBottom, onAtBottomChange]);
  const announcement = useAnnouncement(messages, announceAfterSeq);

  let lastDay: string | null = null;
  return (
    <div className={`parley-message-list${className ? ` ${className}` : ""}`}>
      <div
        ref={ref}
        className="parley-scroll"
        role="log"
        aria-label="Messages"
        aria-live="off"
        onScroll={onListScroll}
        onFocus={onListFocus}
        onKeyDown={onListKeyDown}
        tabIndex={0}
      >
        {hasOlder && (
          <button type="button" className="parley-load-older" onClick={onLoadOlder} disabled={loadingOlder}>
            {loadingOlder ? "Loading…" : "Load older messages"}
          </button>
        )}
        {messages.length === 0 && <p className="parley-empty">{emptyText}</p>}
        {groups.map((group) => {
          const label = dayLabel(group.messages[0]!.createdAt, now);
          const separator =
            group.day !== lastDay ? (
              <div className="parley-day" role="separator" aria-label={label}>
                <span>{label}</span>
              </div>
            ) : null;
          lastDay = group.day;
          const avatar = showAvatars && !group.own && !group.system;
          return (
            <div key={group.key} className="parley-group-wrap">
              {separator}
              {group.unread && (
                <div className="parley-unread-divider" role="separator" aria-label="Unread messages">
                  <span>Unread messages</span>
                </div>
              )}
              <div className={`parley-group${group.own ? " parley-group-own" : ""}${group.system ? " parley-group-system" : ""}${avatar ? " parley-with-avatar" : ""}`}>
                {avatar && <Avatar userId={group.senderId} name={group.senderName} size={32} />}
                <div className="parley-group-body">
                  {!group.system && showSenderNames && !group.own && <div className="parley-sender">{group.senderName}</div>}
                  {group.messages.map((message) => (
                    <div key={message.key} className="parley-row">
                      <MessageItem
                        {...props}
                        message={message}
                        original={message.replyTo !== null ? (byId.get(message.replyTo) ?? quoted?.[message.replyTo]) : undefined}
                        me={currentUserId}
                        reactions={reactionChoices}
                        editing={editing !== null && editing === message.id}
                        setEditing={setEditing}
                        canDeleteForEveryone={canDeleteForEveryone}
                        onResize={anchor.onContentResize}
                        onView={setViewing}
                        onJump={onJump}
                        receiptMembers={members}
                      />
                    </div>
                  ))}
                </div>
              </div>
            </div>
          );
        })}
        {hasNewer && (
          <button type="button" className="parley-load-newer" onClick={loadNewer} disabled={loadingNewer}>
            {loadingNewer ? "Loading…" : "Load newer messages"}
          </button>
        )}
      </div>
      <div className="parley-sr-only" aria-live="polite">
        {announcement}
      </div>
      {hasNewer && onJumpToLatest && (
        <button type="button" className="parley-new-messages" onClick={onJumpToLatest}>
          {newerCount === 0 ? "Jump to latest" : newerCount === 1 ? "1 new message" : `${newerCount} new messages`}
          <span aria-hidden="true"> ↓</span>
        </button>
      )}
      {!hasNewer && anchor.newCount > 0 && (
        <button type="button" className="parley-new-messages" onClick={anchor.scrollToBottom}>
          {anchor.newCount === 1 ? "1 new message" : `${anchor.newCount} new messages`}
          <span aria-hidden="true"> ↓</span>
        </button>
      )}
      {!hasNewer && anchor.newCount === 0 && anchor.farFromBottom && (
        <button type="button" className="parley-new-messages" onClick={anchor.scrollToBottom}>
          Jump to latest
          <span aria-hidden="true"> ↓</span>
        </button>
      )}
      {props.notice ? (
        <div className="parley-notice" role="alert">
          {props.notice}
        </div>
      ) : null}
      {viewing && <ImageViewer attachment={viewing} onClose={closeViewer} />}
    </div>
  );
}
