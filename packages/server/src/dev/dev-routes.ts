import { z } from "zod";
import { notFound } from "../domain/parley-error.js";
import type { HttpContext, ParleyFastify } from "../http/http-context.js";
import { sendWebApp } from "../http/routes/web-app-routes.js";
import { DEMO_USERS, findDemoUser } from "./demo-users.js";

/** Lifetime of the tokens the dev login page mints, in seconds. */
const DEV_TOKEN_TTL = 24 * 3600;

const demoUserBody = z.object({
  id: z.string(),
  name: z.string(),
  roles: z.array(z.string()),
  label: z.string(),
  description: z.string(),
  scenarios: z.array(z.string()),
});

/**
 * Dev mode only: the demo users, tokens for them, and the web app's
 * `/dev/login` page that picks one. Never registered outside dev mode, so
 * every `/dev/…` path answers 404 there.
 */
export function registerDevRoutes(app: ParleyFastify, ctx: HttpContext): void {
  if (!ctx.config.dev) return;

  app.get(
    "/dev/users",
    { schema: { hide: true, response: { 200: z.object({ users: z.array(demoUserBody) }) } } },
    async () => ({ users: DEMO_USERS.map((u) => ({ ...u, roles: [...u.roles], scenarios: [...u.scenarios] })) }),
  );

  app.post(
    "/dev/token",
    {
      schema: {
        hide: true,
        body: z.strictObject({ userId: z.string().min(1).max(200) }),
        response: {
          201: z.object({
            token: z.string(),
            expiresAt: z.string().nullable(),
            user: z.object({ id: z.string(), name: z.string(), roles: z.array(z.string()) }),
          }),
        },
      },
    },
    async (request, reply) => {
      const user = findDemoUser(request.body.userId);
      if (!user) throw notFound(`No demo user "${request.body.userId}"`);
      const minted = await ctx.signer.sign({ sub: user.id, name: user.name, roles: [...user.roles], ttl: DEV_TOKEN_TTL });
      return reply.status(201).send({ ...minted, user: { id: user.id, name: user.name, roles: [...user.roles] } });
    },
  );

  app.get("/dev/login", { schema: { hide: true } }, (_request, reply) => sendWebApp(reply, ctx.config));
}
