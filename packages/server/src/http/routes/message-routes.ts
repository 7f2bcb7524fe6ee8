import { MAX_PAGE_LIMIT, deleteScopeSchema, idSchema, messageSendBodySchema, reactionSchema, seqSchema } from "@parley/protocol";
import { z } from "zod";
import { invalid, notFound } from "../../domain/parley-error.js";
import type { HttpContext, ParleyFastify } from "../http-context.js";
import { principalOf } from "../http-context.js";
import { errorResponses, messageBody, messagesBody, nullableMessageBody, queryInt } from "../response-schemas.js";

const security = [{ bearer: [] }];
const tags = ["messages"];
const conversationParams = z.object({ id: idSchema });
const messageParams = z.object({ id: idSchema, messageId: idSchema });

/** Messages, reactions and read state. */
export function registerMessageRoutes(app: ParleyFastify, ctx: HttpContext): void {
  const { messages } = ctx.domain;

  app.get(
    "/v1/conversations/:id/messages",
    {
      schema: {
        tags,
        security,
        summary: "History (beforeSeq, newest page by default) or sync (afterSeq: everything with revSeq > afterSeq)",
        params: conversationParams,
        querystring: z.strictObject({
          beforeSeq: queryInt(0, Number.MAX_SAFE_INTEGER).optional(),
          afterSeq: queryInt(0, Number.MAX_SAFE_INTEGER).optional(),
          limit: queryInt(1, MAX_PAGE_LIMIT).optional(),
        }),
        response: { 200: messagesBody, ...errorResponses },
      },
    },
    async (request) => {
      const { beforeSeq, afterSeq, limit } = request.query;
      const p = principalOf(request);
      if (beforeSeq !== undefined && afterSeq !== undefined) throw invalid("Give beforeSeq or afterSeq, not both");
      if (afterSeq !== undefined) return messages.sync(p, request.params.id, afterSeq, limit);
      return messages.history(p, request.params.id, beforeSeq, limit);
    },
  );

  app.post(
    "/v1/conversations/:id/messages",
    {
      schema: {
        tags,
        security,
        summary: "Send a message (idempotent on clientId: a retry answers 200 with the first message)",
        params: conversationParams,
        body: messageSendBodySchema,
        response: { 200: messageBody, 201: messageBody, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { message, duplicate } = await messages.send(principalOf(request), request.params.id, request.body);
      return reply.status(duplicate ? 200 : 201).send({ message });
    },
  );

  app.get(
    "/v1/conversations/:id/messages/:messageId",
    {
      schema: {
        tags,
        security,
        summary: "One message (404 when it is not one of this conversation's, or you hid it)",
        params: messageParams,
        response: { 200: messageBody, ...errorResponses },
      },
    },
    async (request) => {
      const { messages: found } = await messages.get(principalOf(request), request.params.id, [request.params.messageId]);
      const message = found[0];
      if (!message) throw notFound("No such message");
      return { message };
    },
  );

  app.patch(
    "/v1/conversations/:id/messages/:messageId",
    {
      schema: {
        tags,
        security,
        summary: "Edit your message",
        params: messageParams,
        body: z.strictObject({ text: z.string() }),
        response: { 200: messageBody, ...errorResponses },
      },
    },
    async (request) => ({
      message: await messages.edit(principalOf(request), request.params.id, request.params.messageId, request.body.text),
    }),
  );

  app.delete(
    "/v1/conversations/:id/messages/:messageId",
    {
      schema: {
        tags,
        security,
        summary: 'Delete for everyone (tombstone) or, with scope "me", hide for yourself (message: null)',
        params: messageParams,
        querystring: z.strictObject({ scope: deleteScopeSchema.default("everyone") }),
        response: { 200: nullableMessageBody, ...errorResponses },
      },
    },
    async (request) => ({
      message: await messages.delete(principalOf(request), request.params.id, request.params.messageId, request.query.scope),
    }),
  );

  const reactionParams = z.object({ id: idSchema, messageId: idSchema, emoji: reactionSchema });
  for (const [method, on] of [
    ["put", true],
    ["delete", false],
  ] as const) {
    app[method](
      "/v1/conversations/:id/messages/:messageId/reactions/:emoji",
      {
        schema: {
          tags,
          security,
          summary: on ? "Add your reaction" : "Remove your reaction",
          params: reactionParams,
          response: { 200: messageBody, ...errorResponses },
        },
      },
      async (request) => ({
        message: await messages.react(principalOf(request), request.params.id, request.params.messageId, request.params.emoji, on),
      }),
    );
  }

  app.post(
    "/v1/conversations/:id/read",
    {
      schema: {
        tags,
        security,
        summary: "Mark read up to seq",
        params: conversationParams,
        body: z.strictObject({ seq: seqSchema }),
        response: { 200: z.object({ lastReadSeq: z.number().int() }), ...errorResponses },
      },
    },
    (request) => messages.markRead(principalOf(request), request.params.id, request.body.seq),
  );
}
