/** One user's presence as clients see it. */
export interface PresenceState {
  userId: string;
  online: boolean;
  lastSeenAt: string | null;
}

/**
 * Who is online, per user across all their sockets (tabs, devices, nodes):
 * online while at least one socket is connected.
 */
export interface PresenceStore {
  /** Records a socket; resolves `true` when it is the user's first (they came online). */
  connect(userId: string, socketId: string): Promise<boolean>;
  /** Forgets a socket; resolves `true` when it was the user's last (they went offline). */
  disconnect(userId: string, socketId: string): Promise<boolean>;
  /** The subset of `userIds` online now. */
  online(userIds: readonly string[]): Promise<Set<string>>;
  /**
   * Registers who to tell when users go offline without a disconnect on this
   * node (their node crashed and its heartbeat lapsed).
   */
  onLapsed(listener: (userId: string) => void): void;
  /** Stops timers and connections. */
  close(): Promise<void>;
}
