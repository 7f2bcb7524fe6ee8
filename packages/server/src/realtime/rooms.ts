/** Every socket of one user joins this room. */
export const userRoom = (userId: string): string => `user:${userId}`;

/** Sockets that opened a conversation (`conversation:open`) join this room. */
export const watchRoom = (conversationId: string): string => `watch:${conversationId}`;

/** Every operator's sockets join this room: support conversations' events reach them all. */
export const OPERATORS_ROOM = "operators";
