import { ERROR_CODES, conversationSchema, conversationSummarySchema, memberSchema, messageSchema } from "@parley/protocol";
import { z } from "zod";

/** The error body every failing request answers with. */
export const errorBody = z.object({
  error: z.object({
    code: z.enum(ERROR_CODES as [string, ...string[]]),
    message: z.string(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});

/** Error responses a `/v1` route can give, for the OpenAPI document. */
export const errorResponses = {
  400: errorBody,
  401: errorBody,
  403: errorBody,
  404: errorBody,
  409: errorBody,
  413: errorBody,
  429: errorBody,
  503: errorBody,
};

export const conversationBody = z.object({ conversation: conversationSchema, members: z.array(memberSchema) });
export const conversationPageBody = z.object({
  conversations: z.array(conversationSummarySchema),
  nextCursor: z.string().nullable(),
});
export const membersBody = z.object({ members: z.array(memberSchema) });
export const memberBody = z.object({ member: memberSchema });
export const messageBody = z.object({ message: messageSchema });
export const nullableMessageBody = z.object({ message: messageSchema.nullable() });
export const messagesBody = z.object({
  messages: z.array(messageSchema),
  hasMore: z.boolean(),
  lastSeq: z.number().int().optional(),
});

/** `limit`, `beforeSeq`, `afterSeq` arrive as query strings. */
export const queryInt = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
