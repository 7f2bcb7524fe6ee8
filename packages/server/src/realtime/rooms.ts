/** Every socket of one user joins this room. */
export const userRoom = (userId: string): string => `user:${userId}`;

/** Sockets that opened a conversation (`conversation:open`) join this room. */
export const watchRoom = (conversationId: string): string => `watch:${conversationId}`;

/**
 * Every socket of a channel's members joins this room, at connect and when
 * the member joins: the channel's events reach their inboxes whether or not
 * the channel is open (channels keep no list of member ids on the send path).
 * Typing stays with the sockets watching it.
 */
export const channelRoom = (conversationId: string): string => `channel:${conversationId}`;

/** Every operator's sockets join this room: support conversations' events reach them all. */
export const OPERATORS_ROOM = "operators";
