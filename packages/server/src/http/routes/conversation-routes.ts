import {
  MAX_PAGE_LIMIT,
  cleanString,
  conversationCreateSchema,
  conversationKindSchema,
  conversationStatusSchema,
  conversationUpdateSchema,
  idSchema,
  memberRoleSchema,
  userIdSchema,
} from "@parley/protocol";
import { z } from "zod";
import type { HttpContext, ParleyFastify } from "../http-context.js";
import { principalOf } from "../http-context.js";
import {
  conversationBody,
  conversationPageBody,
  errorResponses,
  memberBody,
  membersBody,
  queryInt,
} from "../response-schemas.js";

const idParams = z.object({ id: idSchema });
const security = [{ bearer: [] }];
const tags = ["conversations"];

/** Conversations and their members. */
export function registerConversationRoutes(app: ParleyFastify, ctx: HttpContext): void {
  const { conversations } = ctx.domain;

  app.get(
    "/v1/conversations",
    {
      schema: {
        tags,
        security,
        summary: "The caller's inbox, by last activity (operators: every support conversation)",
        querystring: z.strictObject({
          kind: conversationKindSchema.optional(),
          status: conversationStatusSchema.optional(),
          cursor: cleanString(0, 500).optional(),
          limit: queryInt(1, MAX_PAGE_LIMIT).optional(),
        }),
        response: { 200: conversationPageBody, ...errorResponses },
      },
    },
    (request) => conversations.list(principalOf(request), request.query),
  );

  app.post(
    "/v1/conversations",
    {
      schema: {
        tags,
        security,
        summary: "Create a conversation (200 with the existing one for a known ref or direct pair)",
        body: conversationCreateSchema,
        response: { 200: conversationBody, 201: conversationBody, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { created, ...body } = await conversations.create(principalOf(request), request.body);
      return reply.status(created ? 201 : 200).send(body);
    },
  );

  app.get(
    "/v1/conversations/by-ref/:ref",
    {
      schema: {
        tags,
        security,
        summary: "Find a conversation by its external ref, e.g. booking:42 (404 also when it exists but the caller may not read it)",
        params: z.object({ ref: idSchema }),
        response: { 200: conversationBody, ...errorResponses },
      },
    },
    (request) => conversations.getByRef(principalOf(request), request.params.ref),
  );

  app.get(
    "/v1/conversations/:id",
    {
      schema: { tags, security, summary: "A conversation and its members", params: idParams, response: { 200: conversationBody, ...errorResponses } },
    },
    (request) => conversations.get(principalOf(request), request.params.id),
  );

  app.patch(
    "/v1/conversations/:id",
    {
      schema: {
        tags,
        security,
        summary: "Rename, change metadata, close or reopen",
        params: idParams,
        body: conversationUpdateSchema,
        response: { 200: conversationBody, ...errorResponses },
      },
    },
    (request) => conversations.update(principalOf(request), request.params.id, request.body),
  );

  app.get(
    "/v1/conversations/:id/members",
    {
      schema: { tags, security, summary: "Members", params: idParams, response: { 200: membersBody, ...errorResponses } },
    },
    async (request) => ({ members: await conversations.listMembers(principalOf(request), request.params.id) }),
  );

  app.post(
    "/v1/conversations/:id/members",
    {
      schema: {
        tags,
        security,
        summary: "Add a member (owners, moderators, admins), or join yourself where you may",
        params: idParams,
        body: z.strictObject({ userId: userIdSchema, role: memberRoleSchema.optional() }),
        response: { 200: memberBody, 201: memberBody, ...errorResponses },
      },
    },
    async (request, reply) => {
      const p = principalOf(request);
      const { userId, role } = request.body;
      const { member, created } =
        userId === p.id && p.kind !== "system" && role === undefined
          ? await conversations.join(p, request.params.id)
          : await conversations.addMember(p, request.params.id, userId, role);
      // 201 when they joined now, 200 when they already belonged (as every idempotent create answers).
      return reply.status(created ? 201 : 200).send({ member });
    },
  );

  app.delete(
    "/v1/conversations/:id/members/:userId",
    {
      schema: {
        tags,
        security,
        summary: "Remove a member (or leave)",
        params: z.object({ id: idSchema, userId: userIdSchema }),
        response: { 204: z.null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await conversations.removeMember(principalOf(request), request.params.id, request.params.userId);
      return reply.status(204).send(null);
    },
  );
}
