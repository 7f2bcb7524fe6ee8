import { useEffect, useState, type DragEvent, type ReactNode } from "react";
import { ParleyClientError } from "@parley/client";
import { Composer, MessageList, TypingIndicator, useComposerDraft, useConnection, useConversation, useParley } from "@parley/react";
import { ConversationHeader } from "./conversation-header.js";
import { isModerator, isOperator, titleOf } from "./conversation-info.js";
import { SupportAvailability, useSupportAvailability } from "./support-availability.js";
import { useServerInfo } from "../app/server-info.js";
import { forgetMessageFocus, useMessageFocus } from "./message-focus.js";

/** Resolve, Reopen and Assign to me for operators in support conversations. */
/** A channel's Leave, for its members (anyone may leave; they can still read it and come back by posting). */
function ChannelActions({ conversationId, onLeft }: { conversationId: string; onLeft?: () => void }) {
  const { conversation, members, handle } = useConversation(conversationId);
  const { user } = useConnection();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  if (conversation?.kind !== "channel" || !members.some((m) => m.userId === user?.id)) return null;
  const leave = () => {
    setBusy(true);
    setError(null);
    handle
      .leave()
      .then(() => onLeft?.())
      .catch((err: unknown) => setError(err instanceof ParleyClientError ? err.message : String(err)))
      .finally(() => setBusy(false));
  };
  return (
    <>
      <button type="button" className="button subtle" disabled={busy} onClick={leave}>
        Leave channel
      </button>
      {error && (
        <span className="action-error" role="alert">
          {error}
        </span>
      )}
    </>
  );
}

function SupportActions({ conversationId }: { conversationId: string }) {
  const client = useParley();
  const { conversation, members, handle } = useConversation(conversationId);
  const { user } = useConnection();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  if (!conversation || conversation.kind !== "support" || !isOperator(user?.roles)) return null;
  const joined = members.some((m) => m.userId === user?.id);
  const run = (action: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    action()
      .catch((err: unknown) => setError(err instanceof ParleyClientError ? err.message : String(err)))
      .finally(() => setBusy(false));
  };
  return (
    <>
      {!joined && conversation.status === "open" && (
        <button type="button" className="button" disabled={busy} onClick={() => run(() => handle.join())}>
          Assign to me
        </button>
      )}
      {conversation.status === "open" ? (
        <button type="button" className="button primary" disabled={busy} onClick={() => run(() => client.request("conversation:resolve", { conversationId }))}>
          Resolve
        </button>
      ) : (
        <button
          type="button"
          className="button"
          disabled={busy}
          onClick={() => run(() => client.api("PATCH", `/v1/conversations/${encodeURIComponent(conversationId)}`, { status: "open" }))}
        >
          Reopen
        </button>
      )}
      {error && (
        <span className="action-error" role="alert">
          {error}
        </span>
      )}
    </>
  );
}

/** For visitors: who is answering, and whether someone is online to reply now. */
function VisitorSubtitle({ members, me }: { members: readonly { userId: string; name: string }[]; me: string | null }) {
  const operatorsOnline = useSupportAvailability(useParley());
  const operators = members.filter((m) => m.userId !== me).map((m) => m.name);
  return (
    <>
      {operators.length > 0 && <span className="visitor-operators">{operators.join(", ")} ·</span>}
      <SupportAvailability operatorsOnline={operatorsOnline} />
    </>
  );
}

function loadError(error: ParleyClientError | null): string {
  if (!error) return "This conversation could not be loaded.";
  if (error.code === "forbidden") return "You don't have access to this conversation.";
  if (error.code === "not_found") return "This conversation doesn't exist.";
  return error.message;
}

/**
 * One conversation: header, messages, who is typing and the composer. Files
 * dropped anywhere on it are attached to the message being written.
 */
/**
 * A mouse or trackpad: opening a conversation puts the cursor in its box, as
 * desktop chat apps do. On touch screens it would open the keyboard over the
 * conversation, so there the user taps the box.
 */
const PRECISE_POINTER = typeof window !== "undefined" && typeof window.matchMedia === "function" && window.matchMedia("(pointer: fine)").matches;

export function ConversationView(props: {
  conversationId: string;
  onBack?: () => void;
  emptyText?: string;
  /** Shown to a visitor: their support chat, without the desk's actions. */
  visitor?: boolean;
  /** Replaces the note shown above the disabled composer of a closed conversation. */
  closedNote?: ReactNode;
  /** More buttons for the header (e.g. the desk's Details). */
  headerExtra?: ReactNode;
}) {
  const { conversationId, onBack, emptyText, visitor = false } = props;
  const chat = useConversation(conversationId);
  // A search result chosen for this conversation; forgotten when it closes.
  const focus = useMessageFocus(conversationId);
  useEffect(() => () => forgetMessageFocus(conversationId), [conversationId]);
  const draft = useComposerDraft(conversationId);
  const serverInfo = useServerInfo();
  const { user } = useConnection();
  const [dragging, setDragging] = useState(false);
  const me = user?.id ?? null;
  const { conversation, members } = chat;
  const title = visitor ? "Support" : titleOf(conversation, members, me);
  const closed = conversation?.status === "closed";
  const operator = isOperator(user?.roles);

  const dropFiles = {
    onDragOver: (e: DragEvent) => {
      if (closed || !e.dataTransfer.types.includes("Files")) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = "copy";
      setDragging(true);
    },
    onDragLeave: (e: DragEvent) => {
      if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setDragging(false);
    },
    onDrop: (e: DragEvent) => {
      setDragging(false);
      if (closed || e.dataTransfer.files.length === 0) return;
      e.preventDefault();
      draft.addFiles([...e.dataTransfer.files]);
    },
  };

  if (chat.status === "error" && !conversation) {
    return (
      <section className="conversation" aria-label="Conversation">
        <ConversationHeader conversation={null} members={[]} title="Unavailable" me={me} onBack={onBack} />
        <div className="empty-state">
          <p>{loadError(chat.error)}</p>
        </div>
      </section>
    );
  }

  const closedNote = props.closedNote ?? (visitor
    ? "This conversation was resolved. Thanks for getting in touch!"
    : operator
      ? "This conversation is resolved. Reopen it to reply."
      : "This conversation is closed.");

  return (
    <section className={`conversation${dragging ? " dragging" : ""}`} aria-label={title} {...dropFiles}>
      <ConversationHeader
        conversation={conversation}
        members={members}
        title={title}
        me={me}
        onBack={onBack}
        subtitle={visitor ? <VisitorSubtitle members={members} me={me} /> : undefined}
        actions={
          visitor ? undefined : (
            <>
              <SupportActions conversationId={conversationId} />
              <ChannelActions conversationId={conversationId} {...(onBack ? { onLeft: onBack } : {})} />
              {props.headerExtra}
            </>
          )
        }
      />
      <MessageList
        conversationId={conversationId}
        focus={focus}
        emptyText={emptyText ?? "No messages yet — say hello"}
        canDeleteForEveryone={isModerator(user?.roles)}
        className="conversation-messages"
      />
      <TypingIndicator conversationId={conversationId} className="conversation-typing" />
      <Composer
        conversationId={conversationId}
        disabled={closed}
        disabledNote={closedNote}
        autoFocus={PRECISE_POINTER}
        {...(serverInfo?.uploadMaxBytes !== undefined ? { maxUploadBytes: serverInfo.uploadMaxBytes } : {})}
        placeholder={conversation?.kind === "channel" && conversation.title ? `Message #${conversation.title}` : "Message"}
      />
      {dragging && (
        <div className="drop-overlay" aria-hidden="true">
          Drop files to attach
        </div>
      )}
    </section>
  );
}
