import { cleanString, idSchema, userSchema } from "@parley/protocol";
import { sql } from "kysely";
import { z } from "zod";
import { forbidden } from "../../domain/parley-error.js";
import { isAdmin } from "../../domain/principal.js";
import type { HttpContext, ParleyFastify } from "../http-context.js";
import { principalOf } from "../http-context.js";
import { errorBody, errorResponses } from "../response-schemas.js";

/** Health and readiness (no auth). */
export function registerHealthRoutes(app: ParleyFastify, ctx: HttpContext): void {
  app.get(
    "/health",
    {
      schema: {
        tags: ["system"],
        summary: "Liveness",
        response: { 200: z.object({ status: z.literal("ok"), timestamp: z.string(), version: z.string() }) },
      },
    },
    async () => ({ status: "ok" as const, timestamp: new Date().toISOString(), version: ctx.version }),
  );

  app.get(
    "/ready",
    {
      schema: {
        tags: ["system"],
        summary: "Readiness: the database (and Redis, when configured) answer",
        response: {
          200: z.object({ status: z.literal("ready"), checks: z.record(z.string(), z.literal("ok")) }),
          503: errorBody,
        },
      },
    },
    async (_request, reply) => {
      const checks: Record<string, () => Promise<void>> = {
        database: async () => {
          await sql`select 1`.execute(ctx.storage.db);
          // SQLite: a failed flush of the log stops every acknowledgement until a restart (see SqliteWal).
          if (ctx.storage.sqliteWal?.failed) throw new Error("a flush of the write-ahead log failed");
        },
        ...ctx.readiness,
      };
      const results: Record<string, "ok" | "down"> = {};
      await Promise.all(
        Object.entries(checks).map(async ([name, check]) => {
          const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error("timeout")), 2000).unref());
          results[name] = await Promise.race([check(), timeout]).then(
            () => "ok" as const,
            () => "down" as const,
          );
        }),
      );
      const down = Object.keys(results).filter((name) => results[name] === "down");
      if (down.length > 0) {
        return reply
          .status(503)
          .send({ error: { code: "unavailable", message: `Not ready: ${down.join(", ")} down`, details: results } });
      }
      return { status: "ready" as const, checks: results as Record<string, "ok"> };
    },
  );
}

/** Prometheus metrics (no auth; keep the port private or filter `/metrics` at the proxy). */
export function registerMetricsRoute(app: ParleyFastify, ctx: HttpContext): void {
  app.addHook("onResponse", async (request, reply) => {
    const route = request.routeOptions.url ?? "unknown";
    if (route === "/metrics") return;
    ctx.metrics.httpSeconds.observe(
      { method: request.method, route, status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
  app.get("/metrics", { schema: { tags: ["system"], summary: "Prometheus metrics" } }, async (_request, reply) => {
    const body = await ctx.metrics.registry.metrics();
    return reply.header("content-type", ctx.metrics.registry.contentType).send(body);
  });
}

/** `/v1/me` and `/v1/tokens`. */
export function registerIdentityRoutes(app: ParleyFastify, ctx: HttpContext): void {
  app.get(
    "/v1/me",
    {
      schema: {
        tags: ["users"],
        summary: "The caller",
        security: [{ bearer: [] }],
        response: { 200: z.object({ user: userSchema }), ...errorResponses },
      },
    },
    async (request) => {
      const p = principalOf(request);
      const stored = p.kind === "system" ? null : await ctx.domain.users.get(p.id);
      return {
        user: stored ?? {
          id: p.id,
          name: p.name,
          avatar: p.avatar,
          roles: [...p.roles],
          createdAt: new Date(0).toISOString(),
          lastSeenAt: null,
        },
      };
    },
  );

  app.post(
    "/v1/tokens",
    {
      schema: {
        tags: ["users"],
        summary: "Mint a Parley-signed user token (admin)",
        security: [{ bearer: [] }],
        body: z.strictObject({
          sub: idSchema.regex(/^[^:]*$/, 'may not contain ":"'),
          name: cleanString(1, 200).optional(),
          avatar: z.string().max(2000).optional(),
          roles: z.array(z.enum(["operator", "moderator", "admin", "guest"])).max(4).optional(),
          ttl: z.number().int().min(60).max(365 * 86400).optional(),
        }),
        response: { 201: z.object({ token: z.string(), expiresAt: z.string().nullable() }), ...errorResponses },
      },
    },
    async (request, reply) => {
      if (!isAdmin(principalOf(request))) throw forbidden("Only the server API key or an admin mints tokens");
      const minted = await ctx.signer.sign(request.body);
      return reply.status(201).send(minted);
    },
  );
}
