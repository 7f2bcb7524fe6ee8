import { MAX_PAGE_LIMIT, cleanString, idSchema, messageSchema, userIdSchema } from "@parley/protocol";
import { randomBytes } from "node:crypto";
import { z } from "zod";
import { ParleyError } from "../../domain/parley-error.js";
import type { HttpContext, ParleyFastify } from "../http-context.js";
import { principalOf } from "../http-context.js";
import { errorResponses, queryInt } from "../response-schemas.js";

/** Visitors may mint this many guest tokens per client IP… */
const GUEST_RATE = { perSecond: 10 / 60, burst: 10 };

/** Search, stats, user erasure and guest tokens. */
/** How long after a guest token expires it may still be traded for a new one of the same visitor (seconds). */
const GUEST_RENEW_WINDOW_S = 30 * 24 * 3600;

export function registerAdminRoutes(app: ParleyFastify, ctx: HttpContext): void {
  const { search, admin } = ctx.domain;

  app.get(
    "/v1/search",
    {
      schema: {
        tags: ["messages"],
        security: [{ bearer: [] }],
        summary: "Full-text search over what the caller may read, newest first (matches marked with ** in snippets)",
        querystring: z.strictObject({
          q: cleanString(1, 200),
          conversationId: idSchema.optional(),
          cursor: cleanString(0, 500).optional(),
          limit: queryInt(1, MAX_PAGE_LIMIT).optional(),
        }),
        response: {
          200: z.object({ results: z.array(z.object({ message: messageSchema, snippet: z.string() })), nextCursor: z.string().nullable() }),
          ...errorResponses,
        },
      },
    },
    (request) => search.search(principalOf(request), request.query),
  );

  app.get(
    "/v1/stats",
    {
      schema: {
        tags: ["admin"],
        security: [{ bearer: [] }],
        summary: "Totals and messages per day for the last 30 days (admin)",
        response: {
          200: z.object({
            totals: z.object({
              messages: z.number(),
              users: z.number(),
              conversations: z.object({ direct: z.number(), group: z.number(), channel: z.number(), support: z.number() }),
            }),
            messagesPerDay: z.array(z.object({ day: z.string(), count: z.number() })),
          }),
          ...errorResponses,
        },
      },
    },
    (request) => admin.stats(principalOf(request)),
  );

  app.delete(
    "/v1/users/:id",
    {
      schema: {
        tags: ["admin"],
        security: [{ bearer: [] }],
        summary: "Erase a user: messages tombstoned, memberships removed, uploads deleted (admin)",
        params: z.object({ id: userIdSchema }),
        response: { 204: z.null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await admin.eraseUser(principalOf(request), request.params.id);
      return reply.status(204).send(null);
    },
  );

  app.post(
    "/v1/guests",
    {
      config: { auth: "none" },
      schema: {
        tags: ["users"],
        summary:
          "Mint a guest token for a support visitor (when PARLEY_GUESTS=on; rate-limited per IP); with `renew`, a visitor's previous guest token (expired up to 30 days ago), the same visitor again",
        body: z.strictObject({ name: cleanString(1, 100, { trim: true }), renew: z.string().min(1).max(8192).optional() }),
        response: { 201: z.object({ token: z.string(), expiresAt: z.string().nullable(), userId: z.string() }), ...errorResponses },
      },
    },
    async (request, reply) => {
      if (!ctx.config.guests) throw new ParleyError("forbidden", "Guest access is turned off (PARLEY_GUESTS)");
      const decision = await ctx.limiter.take(`guests:${request.ip}`, GUEST_RATE);
      if (!decision.allowed) {
        throw new ParleyError("rate_limited", "Too many guest sessions from this address", { retryAfterMs: decision.retryAfterMs });
      }
      // A visitor coming back after their token ran out keeps who they were, and with it their conversation.
      let sub = `guest-${randomBytes(12).toString("base64url")}`;
      if (request.body.renew !== undefined) {
        const previous = await ctx.signer.verifyOwn(request.body.renew, GUEST_RENEW_WINDOW_S);
        const roles: unknown = previous?.roles;
        if (!previous?.sub?.startsWith("guest-") || !Array.isArray(roles) || !roles.includes("guest")) {
          throw new ParleyError("unauthenticated", "renew is not a guest token of this server, or it expired more than 30 days ago", {
            reason: "invalid",
          });
        }
        sub = previous.sub;
      }
      const minted = await ctx.signer.sign({ sub, name: request.body.name, roles: ["guest"], ttl: ctx.config.guestTtl });
      return reply.status(201).send({ ...minted, userId: sub });
    },
  );
}
