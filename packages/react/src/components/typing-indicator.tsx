import { typingSentence } from "../format.js";
import { useTyping } from "../hooks/use-typing.js";

/** Props of {@link TypingIndicator}. */
export interface TypingIndicatorProps {
  conversationId: string;
  className?: string;
}

/**
 * "Alice is typing…", "Alice and Bob are typing…" or "3 people are
 * typing…", in a polite live region; empty when nobody is. It clears when
 * the typist sends, stops, disconnects or goes quiet.
 */
export function TypingIndicator({ conversationId, className }: TypingIndicatorProps) {
  const typing = useTyping(conversationId);
  return (
    <div className={`parley-typing${className ? ` ${className}` : ""}`} aria-live="polite">
      {typingSentence(typing)}
    </div>
  );
}
