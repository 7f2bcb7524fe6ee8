import { existsSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import fastifyStatic from "@fastify/static";
import type { FastifyReply } from "fastify";
import type { Config } from "../../config/config.js";
import type { HttpContext, ParleyFastify } from "../http-context.js";

/** The built web app (`apps/web/dist`), from `src/http/routes` or `dist/http/routes` alike. */
export const WEB_APP_DIR = path.resolve(import.meta.dirname, "../../../../../apps/web/dist");

/** Paths that belong to the server; the web app never answers for them. */
const SERVER_PREFIXES = ["/v1", "/docs", "/health", "/ready", "/metrics", "/socket.io", "/dev"];

/**
 * What the web app's HTML may load: its own scripts and styles, images and
 * media from this server (attachments; `PARLEY_PUBLIC_URL` when set),
 * Socket.IO back to this server. Message text is never HTML, and this keeps
 * it so should a bug ever let markup through.
 */
function contentSecurityPolicy(publicUrl: string | undefined): string {
  const media = ["'self'", "data:", "blob:", ...(publicUrl ? [publicUrl] : [])].join(" ");
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    `img-src ${media}`,
    `media-src ${media}`,
    "connect-src 'self' ws: wss:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
  ].join("; ");
}

const NOT_BUILT = `<!doctype html><html lang="en"><meta charset="utf-8"><title>Parley</title>
<body style="font-family:system-ui;max-width:36rem;margin:4rem auto;padding:0 1rem;line-height:1.5">
<h1>Parley is running</h1><p>The web app is not built yet: run <code>npm run build</code> at the repository root, then reload.</p>
<p>The REST API is documented at <a href="/docs">/docs</a>.</p></body></html>`;

function isServerPath(url: string): boolean {
  return SERVER_PREFIXES.some((prefix) => url === prefix || url.startsWith(prefix + "/") || url.startsWith(prefix + "?"));
}

/** Sends the web app's `index.html` (its router draws the page for the path). */
export async function sendWebApp(reply: FastifyReply, config: Pick<Config, "publicUrl">): Promise<FastifyReply> {
  void reply
    .header("cache-control", "no-cache")
    .header("x-content-type-options", "nosniff")
    .header("referrer-policy", "no-referrer")
    .header("content-security-policy", contentSecurityPolicy(config.publicUrl))
    .type("text/html; charset=utf-8");
  try {
    return await reply.send(await readFile(path.join(WEB_APP_DIR, "index.html"), "utf8"));
  } catch {
    return reply.send(NOT_BUILT);
  }
}

/** A file of the built app for this URL path, if there is one (never outside the app's folder). */
function builtFile(urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  const relative = path.posix.normalize(decoded).replace(/^\/+/, "");
  if (relative === "" || relative.startsWith("..") || relative.includes("\0")) return null;
  const full = path.join(WEB_APP_DIR, relative);
  if (!full.startsWith(WEB_APP_DIR + path.sep)) return null;
  try {
    return statSync(full).isFile() ? relative : null;
  } catch {
    return null;
  }
}

/**
 * The web app at `/`: its files, and `index.html` for every other page path
 * (`/c/<id>`, `/desk`, …) so links and reloads work. Paths of the server
 * (`/v1`, `/docs`, `/health`, `/ready`, `/metrics`, `/socket.io`, `/dev`)
 * are never answered here, and a missing file (a path with an extension)
 * is a 404, not the app.
 */
export async function registerWebAppRoutes(app: ParleyFastify, ctx: HttpContext): Promise<void> {
  if (existsSync(WEB_APP_DIR)) {
    await app.register(fastifyStatic, { root: WEB_APP_DIR, serve: false });
  }

  // What the web app needs to know about this server before anyone signs in.
  app.get("/web-app.json", { schema: { hide: true } }, async (_request, reply) =>
    reply
      .header("cache-control", "no-cache")
      .send({ dev: ctx.config.dev, guests: ctx.config.guests, version: ctx.version, uploadMaxBytes: ctx.config.uploadMaxBytes }),
  );

  app.get("/*", { schema: { hide: true } }, async (request, reply) => {
    const urlPath = request.url.split("?")[0] ?? "/";
    if (isServerPath(urlPath)) return reply.callNotFound();
    const file = urlPath === "/" || urlPath === "/index.html" ? null : builtFile(urlPath);
    if (file !== null) {
      const hashed = file.startsWith("assets/");
      return reply
        .header("x-content-type-options", "nosniff")
        .sendFile(file, { maxAge: hashed ? "365d" : "1h", immutable: hashed, cacheControl: true });
    }
    if (path.posix.basename(urlPath).includes(".") && urlPath !== "/index.html") return reply.callNotFound();
    return sendWebApp(reply, ctx.config);
  });
}
