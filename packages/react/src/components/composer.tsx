import { useEffect, useRef, useState, type ClipboardEvent, type DragEvent, type FormEvent, type KeyboardEvent, type ReactNode } from "react";
import { createClientId, packetSize, ParleyClientError, type ChatMessage } from "@parley/client";
import { MAX_PACKET_BYTES } from "@parley/protocol";
import { useConversation } from "../hooks/use-conversation.js";
import { setUploadLimit, useComposerDraft, type DraftUpload } from "./composer-draft.js";
import { useParley } from "../parley-context.js";
import { Icon } from "./icon.js";
import { messageSnippet } from "./message-list-view.js";

/** Props of {@link Composer}. */
export interface ComposerProps {
  conversationId: string;
  /** @default "Message" */
  placeholder?: string;
  /** Disable input (e.g. a closed conversation). @default false */
  disabled?: boolean;
  /** Shown above the disabled box, saying why (e.g. "This conversation is closed."). */
  disabledNote?: ReactNode;
  /** Offer the Attach button, paste and drop of files. @default true */
  attachments?: boolean;
  /** The file chooser's `accept`. @default any file (the server decides) */
  accept?: string;
  className?: string;
  /** Put the cursor in the box when the composer appears (a conversation just chosen on a desktop). @default false */
  autoFocus?: boolean;
  /**
   * The largest file the server accepts (`PARLEY_UPLOAD_MAX_BYTES`): a larger
   * one is refused at once, saying so, instead of after uploading it all.
   * Learnt from the server's first refusal when not given.
   */
  maxUploadBytes?: number;
}

/** `true` while an input method (Japanese, Korean, Chinese…) is composing: Enter then confirms the text, never sends. */
function composing(e: KeyboardEvent<HTMLTextAreaElement>, flag: boolean): boolean {
  return flag || e.nativeEvent.isComposing || e.keyCode === 229;
}

const MAX_HEIGHT_PX = 160;

function UploadPreview({ upload, onRetry, onRemove }: { upload: DraftUpload; onRetry: () => void; onRemove: () => void }) {
  const percent = upload.total > 0 ? Math.round((upload.loaded / upload.total) * 100) : 0;
  return (
    <li className="parley-upload" data-status={upload.status}>
      {upload.previewUrl ? (
        <img className="parley-upload-thumb" src={upload.previewUrl} alt="" />
      ) : (
        <span className="parley-upload-thumb parley-upload-icon" aria-hidden="true">
          <Icon name="file" size={20} />
        </span>
      )}
      <span className="parley-upload-info">
        <span className="parley-upload-name">{upload.name}</span>
        {upload.status === "uploading" && (
          <progress max={100} value={percent} aria-label={`Uploading ${upload.name}`}>
            {percent}%
          </progress>
        )}
        {upload.status === "failed" && (
          <span className="parley-upload-error" role="alert">
            <span className="parley-sr-only">{upload.name}: </span>
            {upload.error}
          </span>
        )}
      </span>
      {upload.status === "failed" && upload.retryable && (
        <button type="button" className="parley-action" aria-label={`Upload ${upload.name} again`} title="Upload again" onClick={onRetry}>
          <Icon name="retry" size={16} />
        </button>
      )}
      <button type="button" className="parley-action" aria-label={`Remove ${upload.name}`} title="Remove" onClick={onRemove}>
        <Icon name="close" size={16} />
      </button>
    </li>
  );
}

/**
 * A message box: Enter sends, Shift+Enter starts a new line, and Enter
 * while an input method is composing never sends. Others see "… is
 * typing" while the user types; it stops when they send or clear the box.
 * Files come in with the Attach button, by pasting an image or by dropping
 * them on the box, each with a preview, its upload progress, and a clear
 * error when the server refuses it (too large, a refused type). A Reply
 * chosen in the `MessageList` shows above the box (Esc cancels it), and ↑
 * in an empty box edits the user's last message. A message too large to
 * send is refused here, keeping the text; one the server refuses shows in
 * the list as failed, with Retry.
 *
 * @example
 * <Composer conversationId={id} />
 */
/** The user's newest message that can be edited (stored, not deleted, with text). */
function lastEditable(messages: readonly ChatMessage[]): ChatMessage | undefined {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i]!;
    if (m.own && m.id !== null && m.deletedAt === null && m.type !== "system" && m.text) return m;
  }
  return undefined;
}

export function Composer(props: ComposerProps) {
  const { conversationId, placeholder = "Message", disabled = false, disabledNote, attachments = true, accept, className, autoFocus = false, maxUploadBytes } = props;
  const { send, discard, sendTyping, stopTyping, messages, hasNewer, jumpToLatest } = useConversation(conversationId);
  const draft = useComposerDraft(conversationId);
  const { text, setText } = draft;
  // What the box holds now, for answers that arrive after it changed.
  const textNow = useRef(text);
  textNow.current = text;
  const [error, setError] = useState<string | null>(null);
  const [dragging, setDragging] = useState(false);
  const composingRef = useRef(false);
  const box = useRef<HTMLTextAreaElement>(null);
  const fileInput = useRef<HTMLInputElement>(null);

  const replyTo = draft.replyTo === null ? undefined : messages.find((m) => m.id === draft.replyTo);
  const uploading = draft.uploads.some((u) => u.status === "uploading");
  const ready = draft.uploads.filter((u) => u.status === "done" && u.attachment !== null);
  const canSend = !disabled && !uploading && (text.trim().length > 0 || ready.length > 0);

  useEffect(() => {
    if (draft.replyTo !== null) box.current?.focus();
  }, [draft.replyTo]);

  // When an inline edit ends (saved or cancelled), its box goes, and with it
  // the focus: it comes back here, so typing goes on where it was.
  const wasEditing = useRef(draft.editing);
  useEffect(() => {
    const ended = wasEditing.current !== null && draft.editing === null;
    wasEditing.current = draft.editing;
    const lost = document.activeElement === null || document.activeElement === document.body;
    if (ended && lost) box.current?.focus();
  }, [draft.editing]);

  // ↑ edits the user's newest message: with older messages on show (a
  // window opened at an unread backlog or a quote), it first goes to the
  // newest ones, and edits once they are on show.
  const [editLastWhenLatest, setEditLastWhenLatest] = useState(false);
  const { setEditing } = draft;
  useEffect(() => {
    if (!editLastWhenLatest || hasNewer) return;
    setEditLastWhenLatest(false);
    const last = lastEditable(messages);
    if (last?.id) setEditing(last.id);
  }, [editLastWhenLatest, hasNewer, messages, setEditing]);

  const client = useParley();
  useEffect(() => {
    if (maxUploadBytes !== undefined) setUploadLimit(client, maxUploadBytes);
  }, [client, maxUploadBytes]);

  useEffect(() => {
    if (autoFocus) box.current?.focus({ preventScroll: true });
    // Only when it appears: later renders leave the focus where the user put it.
  }, []);

  const resize = () => {
    const el = box.current;
    if (!el) return;
    el.style.height = "auto";
    if (el.scrollHeight > 0) el.style.height = `${Math.min(el.scrollHeight, MAX_HEIGHT_PX)}px`;
  };
  useEffect(resize, [text]);

  const submit = () => {
    if (!canSend) return;
    if (packetSize("message:send", { conversationId, clientId: "00000000-0000-0000-0000-000000000000", text }) > MAX_PACKET_BYTES) {
      setError("This message is too long to send.");
      return;
    }
    const sending = text.trim().length > 0 ? text : undefined;
    const files = ready.map((u) => u.attachment!);
    const type = files.length === 0 ? undefined : files.every((a) => a.mimeType.startsWith("image/")) ? "image" : "file";
    setText("");
    setError(null);
    draft.clearUploads(ready.map((u) => u.key));
    draft.setReplyTo(null);
    // A refusal from the server shows on the message itself (failed, with
    // Retry), unless no retry could change it (the text too long for this
    // server, say): then the message goes, and its text comes back here with
    // the server's reason, to be shortened and sent again.
    const clientId = createClientId();
    void send({
      clientId,
      ...(sending !== undefined ? { text: sending } : {}),
      ...(type ? { type, attachments: files } : {}),
      ...(replyTo?.id ? { replyTo: replyTo.id } : {}),
    }).catch((err: unknown) => {
      const content = err instanceof ParleyClientError && (err.code === "invalid_argument" || err.code === "payload_too_large");
      if (!content || sending === undefined || files.length > 0) return;
      discard(clientId);
      if (textNow.current.trim() === "") setText(sending);
      setError(`Not sent: ${err.message}`);
    });
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === "Escape" && draft.replyTo !== null) {
      e.preventDefault();
      draft.setReplyTo(null);
      return;
    }
    if (e.key === "ArrowUp" && text === "" && !composing(e, composingRef.current)) {
      if (hasNewer) {
        e.preventDefault();
        jumpToLatest();
        setEditLastWhenLatest(true);
        return;
      }
      const last = lastEditable(messages);
      if (last?.id) {
        e.preventDefault();
        draft.setEditing(last.id);
      }
      return;
    }
    if (e.key !== "Enter" || e.shiftKey || composing(e, composingRef.current)) return;
    e.preventDefault();
    submit();
  };

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    submit();
  };

  const onPaste = (e: ClipboardEvent<HTMLTextAreaElement>) => {
    if (!attachments || disabled) return;
    const files = [...e.clipboardData.files];
    if (files.length === 0) return;
    e.preventDefault();
    draft.addFiles(files);
  };

  const dropProps = attachments
    ? {
        onDragOver: (e: DragEvent) => {
          if (disabled || !e.dataTransfer.types.includes("Files")) return;
          e.preventDefault();
          setDragging(true);
        },
        onDragLeave: () => setDragging(false),
        onDrop: (e: DragEvent) => {
          setDragging(false);
          if (disabled || e.dataTransfer.files.length === 0) return;
          e.preventDefault();
          e.stopPropagation();
          draft.addFiles(e.dataTransfer.files);
        },
      }
    : {};

  return (
    <form
      className={`parley-composer${className ? ` ${className}` : ""}${dragging ? " parley-dragging" : ""}`}
      onSubmit={onSubmit}
      {...dropProps}
    >
      {disabled && disabledNote && <p className="parley-composer-note">{disabledNote}</p>}
      {replyTo && (
        <div className="parley-reply-bar">
          <span className="parley-reply-bar-text">
            <span className="parley-reply-name">Replying to {replyTo.own ? "yourself" : replyTo.senderName}</span>
            <span className="parley-reply-text">{messageSnippet(replyTo)}</span>
          </span>
          <button type="button" className="parley-action" aria-label="Cancel reply" title="Cancel reply" onClick={() => draft.setReplyTo(null)}>
            <Icon name="close" size={16} />
          </button>
        </div>
      )}
      {draft.uploads.length > 0 && (
        <ul className="parley-uploads" aria-label="Attachments">
          {draft.uploads.map((u) => (
            <UploadPreview key={u.key} upload={u} onRetry={() => draft.retryUpload(u.key)} onRemove={() => draft.removeUpload(u.key)} />
          ))}
        </ul>
      )}
      <div className="parley-composer-row">
        {attachments && (
          <>
            <button
              type="button"
              className="parley-action parley-attach"
              aria-label="Attach"
              title="Attach files"
              disabled={disabled}
              onClick={() => fileInput.current?.click()}
            >
              <Icon name="attach" size={20} />
            </button>
            <input
              ref={fileInput}
              type="file"
              multiple
              hidden
              accept={accept}
              tabIndex={-1}
              aria-hidden="true"
              onChange={(e) => {
                if (e.target.files) draft.addFiles([...e.target.files]);
                e.target.value = "";
              }}
            />
          </>
        )}
        <textarea
          ref={box}
          aria-label="Message"
          dir="auto"
          placeholder={placeholder}
          value={text}
          rows={1}
          disabled={disabled}
          onChange={(e) => {
            setText(e.target.value);
            // A refusal is about what was sent: once the text changes it no longer applies.
            setError(null);
            if (e.target.value.trim().length > 0) sendTyping();
            else stopTyping();
          }}
          onKeyDown={onKeyDown}
          onPaste={onPaste}
          onCompositionStart={() => {
            composingRef.current = true;
          }}
          onCompositionEnd={() => {
            composingRef.current = false;
          }}
          onBlur={() => {
            if (text.trim().length === 0) stopTyping();
          }}
        />
        <button type="submit" className="parley-send" disabled={!canSend}>
          Send
        </button>
      </div>
      {error && (
        <p className="parley-composer-error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
