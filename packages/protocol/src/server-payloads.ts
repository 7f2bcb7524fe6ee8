import { z } from "zod";
import {
  conversationSchema,
  conversationSummarySchema,
  idSchema,
  memberSchema,
  messageSchema,
  seqSchema,
  timestampSchema,
  userIdSchema,
} from "./schemas.js";

/* ----------------------------------------------------------------------------
 * What the server sends: acknowledgement data and server → client events.
 * Clients may validate with these; the protocol tests check every payload a
 * real server sends against them.
 * ------------------------------------------------------------------------- */

/** Answer of `conversation:list` and `GET /v1/conversations`. */
export const conversationPageSchema = z.object({
  conversations: z.array(conversationSummarySchema),
  nextCursor: z.string().nullable(),
});

/** Answer of `conversation:open`. */
export const openedConversationSchema = z.object({
  conversation: conversationSchema,
  members: z.array(memberSchema),
  messages: z.array(messageSchema),
  hasMore: z.boolean(),
});

/** Answer of `conversation:sync`. */
export const syncPageSchema = z.object({
  messages: z.array(messageSchema),
  lastSeq: seqSchema,
  hasMore: z.boolean(),
});

/** Answer of `conversation:history`. */
export const historyPageSchema = z.object({
  messages: z.array(messageSchema),
  hasMore: z.boolean(),
});

/** Answer of `message:get`: those of the messages asked for that exist and the caller may see, by `seq`. */
export const foundMessagesSchema = z.object({
  messages: z.array(messageSchema),
});

/** Answer of `conversation:join`. */
export const membershipSchema = z.object({
  conversation: conversationSchema,
  member: memberSchema,
});

/** One user's presence: the `presence` event and each entry of `presence:get`. */
export const presenceSchema = z.object({
  userId: userIdSchema,
  online: z.boolean(),
  lastSeenAt: timestampSchema.nullable(),
});

/** The `session` event a socket receives once it is authenticated. */
export const sessionInfoSchema = z.object({
  user: z.object({ id: userIdSchema, name: z.string(), roles: z.array(z.string()) }),
  serverTime: timestampSchema,
  conversations: z.array(
    z.object({ id: idSchema, lastSeq: seqSchema, unread: z.number().int().min(0), lastReadSeq: seqSchema }),
  ),
});

/** `member:joined` and `member:left`. */
export const memberEventSchema = z.object({ conversationId: idSchema, member: memberSchema });

/** The `conversation:read` event: who read up to where, and when. */
export const readReceiptSchema = z.object({ conversationId: idSchema, userId: userIdSchema, seq: seqSchema, at: timestampSchema });

/** The `conversation:delivered` event. */
export const deliveryReceiptSchema = z.object({ conversationId: idSchema, userId: userIdSchema, seq: seqSchema });

/** The `typing` event. */
export const typingEventSchema = z.object({ conversationId: idSchema, userId: userIdSchema, name: z.string(), typing: z.boolean() });

/** Every server → client event's payload, by event name. */
export const serverEventSchemas = {
  session: sessionInfoSchema,
  "message:new": messageSchema,
  "message:updated": messageSchema,
  "message:deleted": messageSchema,
  "conversation:created": conversationSchema,
  "conversation:updated": conversationSchema,
  "member:joined": memberEventSchema,
  "member:left": memberEventSchema,
  "conversation:read": readReceiptSchema,
  "conversation:delivered": deliveryReceiptSchema,
  typing: typingEventSchema,
  presence: presenceSchema,
  "session:expired": z.strictObject({}),
} as const;

/** Every client → server event's acknowledgement `data`, by event name. */
export const ackDataSchemas = {
  "conversation:list": conversationPageSchema,
  "conversation:create": conversationSchema,
  "conversation:open": openedConversationSchema,
  "conversation:close": z.null(),
  "conversation:join": membershipSchema,
  "conversation:leave": z.null(),
  "conversation:sync": syncPageSchema,
  "conversation:history": historyPageSchema,
  "conversation:read": z.object({ lastReadSeq: seqSchema }),
  "conversation:delivered": z.null(),
  "conversation:resolve": conversationSchema,
  "message:send": messageSchema,
  "message:edit": messageSchema,
  "message:delete": messageSchema.nullable(),
  "message:react": messageSchema,
  "message:get": foundMessagesSchema,
  typing: z.null(),
  "presence:get": z.array(presenceSchema),
  "auth:refresh": z.object({ expiresAt: timestampSchema.nullable() }),
} as const;

export type ConversationPage = z.infer<typeof conversationPageSchema>;
export type OpenedConversation = z.infer<typeof openedConversationSchema>;
export type SyncPage = z.infer<typeof syncPageSchema>;
export type HistoryPage = z.infer<typeof historyPageSchema>;
export type FoundMessages = z.infer<typeof foundMessagesSchema>;
export type Membership = z.infer<typeof membershipSchema>;
export type Presence = z.infer<typeof presenceSchema>;
export type SessionInfo = z.infer<typeof sessionInfoSchema>;
export type MemberEvent = z.infer<typeof memberEventSchema>;
export type ReadReceiptEvent = z.infer<typeof readReceiptSchema>;
export type DeliveryReceiptEvent = z.infer<typeof deliveryReceiptSchema>;
export type TypingEvent = z.infer<typeof typingEventSchema>;
