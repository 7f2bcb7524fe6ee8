import { z } from "zod";
import {
  MAX_ID_LENGTH,
  MAX_MEMBERS_PER_REQUEST,
  MAX_METADATA_BYTES,
  MAX_METADATA_DEPTH,
  MAX_PAGE_LIMIT,
  MAX_TITLE_LENGTH,
} from "./limits.js";

/* ----------------------------------------------------------------------------
 * Building blocks
 * ------------------------------------------------------------------------- */

// A UTF-16 surrogate not part of a pair.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** True when `s` has no NUL and no unpaired surrogate (PostgreSQL stores neither). */
export function isCleanString(s: string): boolean {
  return !s.includes("\u0000") && !LONE_SURROGATE.test(s);
}

/** A string that every database can store: no NUL, no unpaired surrogates. */
export const cleanStringSchema = z.string().refine(isCleanString, "must not contain NUL or unpaired surrogates");

/**
 * A clean string of `min` to `max` UTF-16 code units (`trim` first, when
 * asked). One string schema with its checks, rather than a pipe into a
 * second one: the OpenAPI document then shows the bounds.
 */
export function cleanString(min: number, max: number, options: { trim?: boolean } = {}) {
  const base = options.trim ? z.string().trim() : z.string();
  return base.min(min).max(max).refine(isCleanString, "must not contain NUL or unpaired surrogates");
}

/** A conversation, message, upload or user id: a non-empty clean string. */
export const idSchema = cleanString(1, MAX_ID_LENGTH);

/** A user id as Parley sees it (`alice`, `user:7`, `bartender:7`). */
export const userIdSchema = idSchema;

/** ISO-8601 UTC timestamp with milliseconds, e.g. `2026-11-21T13:45:00.000Z`. */
export const timestampSchema = z.string();

/** A per-conversation sequence number (`seq`, `revSeq`, `lastReadSeq`, …). */
export const seqSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** Page size: 1..200, default 50 (`limit: 0` is only meaningful for `conversation:open`). */
export const limitSchema = z.number().int().min(1).max(MAX_PAGE_LIMIT);

const FORBIDDEN_KEYS = new Set(["__proto__", "constructor", "prototype"]);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function metadataProblem(value: unknown, depth: number): string | null {
  if (depth > MAX_METADATA_DEPTH) return `nested deeper than ${MAX_METADATA_DEPTH} levels`;
  if (Array.isArray(value)) {
    for (const item of value) {
      const problem = metadataProblem(item, depth + 1);
      if (problem) return problem;
    }
    return null;
  }
  if (typeof value === "object" && value !== null) {
    if (!isPlainObject(value)) return "must be plain JSON";
    for (const key of Object.keys(value)) {
      if (FORBIDDEN_KEYS.has(key)) return `key "${key}" is not allowed`;
      if (!isCleanString(key)) return "keys must not contain NUL or unpaired surrogates";
      const problem = metadataProblem(value[key], depth + 1);
      if (problem) return problem;
    }
    return null;
  }
  if (value === null) return null;
  if (typeof value === "number" && !Number.isFinite(value)) return "numbers must be finite";
  if (typeof value === "string") return isCleanString(value) ? null : "strings must not contain NUL or unpaired surrogates";
  if (["number", "boolean"].includes(typeof value)) return null;
  return "must be plain JSON";
}

/**
 * Free-form JSON object kept with a conversation or message. Plain JSON only,
 * at most 8 KiB serialized and 8 levels deep; `__proto__`, `constructor` and
 * `prototype` keys are refused.
 */
export const metadataSchema = z
  .custom<Record<string, unknown>>((value) => isPlainObject(value), { message: "must be a JSON object" })
  .meta({ type: "object", description: "A JSON object: at most 8 KiB serialized, 8 levels deep" })
  .superRefine((value, ctx) => {
    const problem = metadataProblem(value, 0);
    if (problem) {
      ctx.addIssue({ code: "custom", message: `metadata ${problem}` });
      return;
    }
    if (new TextEncoder().encode(JSON.stringify(value)).length > MAX_METADATA_BYTES) {
      ctx.addIssue({ code: "custom", message: `metadata is larger than ${MAX_METADATA_BYTES} bytes` });
    }
  });

/* ----------------------------------------------------------------------------
 * Entities (what the server sends)
 * ------------------------------------------------------------------------- */

export const GLOBAL_ROLES = ["operator", "moderator", "admin", "guest"] as const;
export const MEMBER_ROLES = ["owner", "moderator", "member"] as const;
export const CONVERSATION_KINDS = ["direct", "group", "channel", "support"] as const;
export const CONVERSATION_STATUSES = ["open", "closed"] as const;
export const MESSAGE_TYPES = ["text", "image", "file", "system"] as const;

export const memberRoleSchema = z.enum(MEMBER_ROLES);
export const conversationKindSchema = z.enum(CONVERSATION_KINDS);
export const conversationStatusSchema = z.enum(CONVERSATION_STATUSES);
export const messageTypeSchema = z.enum(MESSAGE_TYPES);

export const userSchema = z.object({
  id: userIdSchema,
  name: z.string(),
  avatar: z.string().nullable(),
  roles: z.array(z.string()),
  createdAt: timestampSchema,
  lastSeenAt: timestampSchema.nullable(),
});

export const attachmentSchema = z.object({
  id: idSchema,
  url: z.string(),
  name: z.string(),
  mimeType: z.string(),
  size: z.number().int(),
  width: z.number().int().optional(),
  height: z.number().int().optional(),
});

export const messageSchema = z.object({
  id: idSchema,
  conversationId: idSchema,
  seq: seqSchema,
  revSeq: seqSchema,
  senderId: userIdSchema,
  senderName: z.string(),
  type: messageTypeSchema,
  text: z.string().nullable(),
  attachments: z.array(attachmentSchema),
  replyTo: idSchema.nullable(),
  metadata: z.record(z.string(), z.unknown()),
  clientId: z.string().nullable(),
  createdAt: timestampSchema,
  editedAt: timestampSchema.nullable(),
  deletedAt: timestampSchema.nullable(),
  reactions: z.record(z.string(), z.array(userIdSchema)),
  /**
   * Present (and `true`) only on the copy a user receives of a message they
   * deleted "for me": their clients drop it; text and attachments are removed.
   */
  hidden: z.literal(true).optional(),
});

export const conversationSchema = z.object({
  id: idSchema,
  kind: conversationKindSchema,
  ref: z.string().nullable(),
  title: z.string().nullable(),
  metadata: z.record(z.string(), z.unknown()),
  status: conversationStatusSchema,
  createdAt: timestampSchema,
  lastMessageAt: timestampSchema.nullable(),
  lastSeq: seqSchema,
});

export const memberSchema = z.object({
  userId: userIdSchema,
  role: memberRoleSchema,
  name: z.string(),
  joinedAt: timestampSchema,
  lastReadSeq: seqSchema,
  lastReadAt: timestampSchema.nullable(),
  lastDeliveredSeq: seqSchema,
});

/** An inbox row: the conversation with what a list needs to show it. */
export const conversationSummarySchema = conversationSchema.extend({
  lastMessage: messageSchema.nullable(),
  unreadCount: z.number().int().min(0),
  /** The caller's read position (operators: their own, in support conversations). */
  lastReadSeq: seqSchema,
  members: z.array(z.object({ userId: userIdSchema, name: z.string(), role: memberRoleSchema })),
  /**
   * Where the caller's own last message has got to with the other members:
   * `sent` (stored), `delivered` (every other member received it) or `read`
   * (every other member read it). `null` when the last message is not the
   * caller's, and in channels (whose read state is not shared).
   */
  lastMessageStatus: z.enum(["sent", "delivered", "read"]).nullable(),
});

/* ----------------------------------------------------------------------------
 * Client → server payloads
 * ------------------------------------------------------------------------- */

const conversationRef = { conversationId: idSchema };

export const memberInputSchema = z.union([
  userIdSchema,
  z.strictObject({ userId: userIdSchema, role: memberRoleSchema.optional() }),
]);

export const conversationListSchema = z.strictObject({
  kind: conversationKindSchema.optional(),
  status: conversationStatusSchema.optional(),
  cursor: cleanString(0, 500).optional(),
  limit: limitSchema.optional(),
});

export const conversationCreateSchema = z.strictObject({
  kind: conversationKindSchema,
  members: z.array(memberInputSchema).max(MAX_MEMBERS_PER_REQUEST).optional(),
  ref: idSchema.optional(),
  title: cleanString(0, MAX_TITLE_LENGTH).optional(),
  metadata: metadataSchema.optional(),
});

export const conversationOpenSchema = z.strictObject({
  ...conversationRef,
  limit: z.number().int().min(0).max(MAX_PAGE_LIMIT).optional(),
});

export const conversationIdSchema = z.strictObject(conversationRef);

export const conversationSyncSchema = z.strictObject({
  ...conversationRef,
  afterSeq: seqSchema,
  limit: limitSchema.optional(),
});

export const conversationHistorySchema = z.strictObject({
  ...conversationRef,
  beforeSeq: seqSchema.optional(),
  limit: limitSchema.optional(),
});

export const conversationSeqSchema = z.strictObject({ ...conversationRef, seq: seqSchema });

/** `message:get`: messages of a conversation by id (a quoted original that is not loaded, say). */
export const messageGetSchema = z.strictObject({
  ...conversationRef,
  messageIds: z.array(idSchema).min(1).max(MAX_PAGE_LIMIT),
});

export const conversationUpdateSchema = z.strictObject({
  title: cleanString(0, MAX_TITLE_LENGTH).nullable().optional(),
  metadata: metadataSchema.optional(),
  status: conversationStatusSchema.optional(),
});

export const attachmentInputSchema = z.strictObject({ id: idSchema });

/** The body of a message send, without the conversation (REST takes it from the path). */
export const messageSendBodySchema = z.strictObject({
  clientId: idSchema.optional(),
  type: z.enum(["text", "image", "file"]).optional(),
  text: z.string().optional(),
  attachments: z.array(attachmentInputSchema).max(10).optional(),
  replyTo: idSchema.optional(),
  metadata: metadataSchema.optional(),
});

export const messageSendSchema = messageSendBodySchema.extend({
  ...conversationRef,
  clientId: idSchema,
});

export const messageEditSchema = z.strictObject({
  ...conversationRef,
  messageId: idSchema,
  text: z.string(),
});

export const deleteScopeSchema = z.enum(["everyone", "me"]);

export const messageDeleteSchema = z.strictObject({
  ...conversationRef,
  messageId: idSchema,
  scope: deleteScopeSchema,
});

/**
 * A reaction: a short clean string, usually one emoji. `__proto__` is not
 * one: as a key of a message's reactions it would be lost on the way out.
 */
export const reactionSchema = cleanString(1, 32).refine((e) => e !== "__proto__", "is not a reaction");

export const messageReactSchema = z.strictObject({
  ...conversationRef,
  messageId: idSchema,
  emoji: reactionSchema,
  on: z.boolean(),
});

export const typingSchema = z.strictObject({ ...conversationRef, typing: z.boolean() });

export const presenceGetSchema = z.strictObject({ userIds: z.array(userIdSchema).max(500) });

export const authRefreshSchema = z.strictObject({ token: z.string().min(1).max(8192) });

/* ----------------------------------------------------------------------------
 * Inferred types
 * ------------------------------------------------------------------------- */

export type GlobalRole = (typeof GLOBAL_ROLES)[number];
export type MemberRole = z.infer<typeof memberRoleSchema>;
export type ConversationKind = z.infer<typeof conversationKindSchema>;
export type ConversationStatus = z.infer<typeof conversationStatusSchema>;
export type MessageType = z.infer<typeof messageTypeSchema>;
export type DeleteScope = z.infer<typeof deleteScopeSchema>;

export type User = z.infer<typeof userSchema>;
export type Attachment = z.infer<typeof attachmentSchema>;
export type Message = z.infer<typeof messageSchema>;
export type Conversation = z.infer<typeof conversationSchema>;
export type Member = z.infer<typeof memberSchema>;
export type ConversationSummary = z.infer<typeof conversationSummarySchema>;

export type MemberInput = z.input<typeof memberInputSchema>;
export type ConversationListPayload = z.input<typeof conversationListSchema>;
export type ConversationCreatePayload = z.input<typeof conversationCreateSchema>;
export type ConversationOpenPayload = z.input<typeof conversationOpenSchema>;
export type ConversationIdPayload = z.input<typeof conversationIdSchema>;
export type ConversationSyncPayload = z.input<typeof conversationSyncSchema>;
export type ConversationHistoryPayload = z.input<typeof conversationHistorySchema>;
export type ConversationSeqPayload = z.input<typeof conversationSeqSchema>;
export type MessageGetPayload = z.input<typeof messageGetSchema>;
export type ConversationUpdatePayload = z.input<typeof conversationUpdateSchema>;
export type MessageSendBody = z.input<typeof messageSendBodySchema>;
export type MessageSendPayload = z.input<typeof messageSendSchema>;
export type MessageEditPayload = z.input<typeof messageEditSchema>;
export type MessageDeletePayload = z.input<typeof messageDeleteSchema>;
export type MessageReactPayload = z.input<typeof messageReactSchema>;
export type TypingPayload = z.input<typeof typingSchema>;
export type PresenceGetPayload = z.input<typeof presenceGetSchema>;
export type AuthRefreshPayload = z.input<typeof authRefreshSchema>;
