import { MAX_PAGE_LIMIT, cleanString, conversationSchema } from "@parley/protocol";
import { z } from "zod";
import type { HttpContext, ParleyFastify } from "../http-context.js";
import { ParleyError } from "../../domain/parley-error.js";
import { optionalPrincipalOf, principalOf } from "../http-context.js";
import { errorResponses, queryInt } from "../response-schemas.js";

const security = [{ bearer: [] }];

const channelPageBody = z.object({
  channels: z.array(z.object({ conversation: conversationSchema, memberCount: z.number().int(), joined: z.boolean() })),
  nextCursor: z.string().nullable(),
});

/** What people can find before they belong: channels to join, and whether support is staffed. */
export function registerDirectoryRoutes(app: ParleyFastify, ctx: HttpContext): void {
  const { directory } = ctx.domain;

  app.get(
    "/v1/channels",
    {
      schema: {
        tags: ["conversations"],
        security,
        summary: "Open channels anyone signed in may join, by last activity, with member counts (not for guests)",
        querystring: z.strictObject({
          cursor: cleanString(0, 500).optional(),
          limit: queryInt(1, MAX_PAGE_LIMIT).optional(),
        }),
        response: { 200: channelPageBody, ...errorResponses },
      },
    },
    async (request) => directory.channels(principalOf(request), request.query),
  );

  app.get(
    "/v1/support/availability",
    {
      // A visitor asks before they have a token (the pre-chat form) when guests may chat.
      config: { auth: "optional" },
      schema: {
        tags: ["support"],
        security,
        summary: "How many operators are online now, for a visitor's \"We are online\" (no token needed when PARLEY_GUESTS=on)",
        response: { 200: z.object({ operatorsOnline: z.number().int() }), ...errorResponses },
      },
    },
    async (request) => {
      if (!optionalPrincipalOf(request) && !ctx.config.guests) {
        throw new ParleyError("unauthenticated", "A Bearer token is required", { reason: "missing" });
      }
      return directory.supportAvailability();
    },
  );
}
