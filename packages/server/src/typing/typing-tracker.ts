/** Announces a typing change to the sockets watching the conversation. */
export type TypingEmit = (conversationId: string, userId: string, name: string, typing: boolean) => void;

/**
 * Who is typing where. Announces changes and, when a typist goes quiet (or
 * vanishes), announces `typing: false` itself after the timeout.
 */
export interface TypingTracker {
  /** Records a `typing` event from a user. */
  set(conversationId: string, userId: string, name: string, typing: boolean): void;
  /** Ends a typist's indicator (they sent or stopped). */
  clear(conversationId: string, userId: string): void;
  /** Ends every indicator of a user (their last socket went away). */
  clearUser(userId: string): void;
  close(): void;
}
