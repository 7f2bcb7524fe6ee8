import { useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import { packetSize } from "@parley/client";
import { MAX_PACKET_BYTES } from "@parley/protocol";
import { useConversation } from "../hooks/use-conversation.js";

/** Props of {@link Composer}. */
export interface ComposerProps {
  conversationId: string;
  /** @default "Message" */
  placeholder?: string;
  /** Disable input (e.g. a closed conversation). @default false */
  disabled?: boolean;
  className?: string;
}

/** `true` while an input method (Japanese, Korean, Chinese…) is composing: Enter then confirms the text, never sends. */
function composing(e: KeyboardEvent<HTMLTextAreaElement>, flag: boolean): boolean {
  return flag || e.nativeEvent.isComposing || e.keyCode === 229;
}

/**
 * A message box: Enter sends, Shift+Enter starts a new line, and Enter
 * while an input method is composing never sends. Others see "… is
 * typing" while the user types; it stops when they send or clear the box.
 * A message too large to send is refused here, keeping the text; one the
 * server refuses shows in the list as failed, with Retry.
 *
 * @example
 * <Composer conversationId={id} />
 */
export function Composer({ conversationId, placeholder = "Message", disabled = false, className }: ComposerProps) {
  const { send, sendTyping, stopTyping } = useConversation(conversationId);
  const [text, setText] = useState("");
  const [error, setError] = useState<string | null>(null);
  const composingRef = useRef(false);

  const submit = () => {
    if (text.trim().length === 0) return;
    if (packetSize("message:send", { conversationId, clientId: "00000000-0000-0000-0000-000000000000", text }) > MAX_PACKET_BYTES) {
      setError("This message is too long to send.");
      return;
    }
    const sending = text;
    setText("");
    setError(null);
    // A refusal from the server shows on the message itself (failed, with Retry).
    void send(sending);
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key !== "Enter" || e.shiftKey || composing(e, composingRef.current)) return;
    e.preventDefault();
    submit();
  };

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    submit();
  };

  return (
    <form className={`parley-composer${className ? ` ${className}` : ""}`} onSubmit={onSubmit}>
      <textarea
        aria-label="Message"
        placeholder={placeholder}
        value={text}
        rows={1}
        disabled={disabled}
        onChange={(e) => {
          setText(e.target.value);
          if (e.target.value.trim().length > 0) sendTyping();
          else stopTyping();
        }}
        onKeyDown={onKeyDown}
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
      <button type="submit" disabled={disabled || text.trim().length === 0}>
        Send
      </button>
      {error && (
        <p className="parley-composer-error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
