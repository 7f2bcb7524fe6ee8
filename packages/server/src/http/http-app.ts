import type { Socket } from "node:net";
import cors from "@fastify/cors";
import multipart from "@fastify/multipart";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import Fastify, { type FastifyRequest } from "fastify";
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from "fastify-type-provider-zod";
import type { Principal } from "../domain/principal.js";
import { handleHttpError } from "./error-handler.js";
import type { HttpContext, ParleyFastify } from "./http-context.js";
import { registerConversationRoutes } from "./routes/conversation-routes.js";
import { registerAdminRoutes } from "./routes/admin-routes.js";
import { registerMessageRoutes } from "./routes/message-routes.js";
import { registerUploadRoutes } from "./routes/upload-routes.js";
import { registerHealthRoutes, registerIdentityRoutes, registerMetricsRoute } from "./routes/system-routes.js";
import { registerWebAppRoutes } from "./routes/web-app-routes.js";
import { registerDirectoryRoutes } from "./routes/directory-routes.js";
import { registerDevRoutes } from "../dev/dev-routes.js";

export interface HttpAppOptions {
  /** Fastify's pino logger: `false` for none, `true` or `{ level }` for JSON lines on stdout. */
  logger: boolean | { level: string };
}

/** A request the HTTP parser refused, answered in Parley's error shape (then the connection closes). */
function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === "ECONNRESET" || socket.destroyed) return;
  const [status, reason, body] =
    err.code === "ERR_HTTP_REQUEST_TIMEOUT"
      ? [408, "Request Timeout", { error: { code: "unavailable", message: "The request took too long to arrive" } }]
      : err.code === "HPE_HEADER_OVERFLOW"
        ? [431, "Request Header Fields Too Large", { error: { code: "payload_too_large", message: "The request's headers are too large" } }]
        : [400, "Bad Request", { error: { code: "invalid_argument", message: "The request is not valid HTTP (a path must be percent-encoded ASCII)" } }];
  const text = JSON.stringify(body);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
    );
  }
  socket.destroy();
}

/**
 * Route schemas cannot describe a multipart body or a file response without
 * validating them, so the OpenAPI document gets those two by hand.
 */
function describeUploads(documentObject: { openapiObject?: unknown; swaggerObject?: unknown }) {
  const doc = documentObject.openapiObject as { paths?: Record<string, Record<string, Record<string, unknown>>> };
  const upload = doc.paths?.["/v1/uploads"]?.post;
  if (upload) {
    upload.requestBody = {
      required: true,
      content: {
        "multipart/form-data": {
          schema: {
            type: "object",
            required: ["file"],
            properties: { file: { type: "string", format: "binary", description: "One file; its part's filename and type are kept" } },
          },
        },
      },
    };
  }
  const download = doc.paths?.["/v1/uploads/{id}"]?.get as { responses?: Record<string, unknown> } | undefined;
  if (download) {
    const error = { $ref: "#/components/schemas/ParleyError" };
    download.responses = {
      200: { description: "The file, with its type; images and PDFs inline, anything else as a download", content: { "*/*": { schema: { type: "string", format: "binary" } } } },
      400: { description: "A malformed id or query (`expires` not an integer, `sig` too long)", content: { "application/json": { schema: error } } },
      401: { description: "Neither a signed link nor a Bearer token", content: { "application/json": { schema: error } } },
      403: { description: "The link expired or is not valid, or the caller may not read the file", content: { "application/json": { schema: error } } },
      404: { description: "No such file", content: { "application/json": { schema: error } } },
    };
  }
  const components = ((doc as { components?: Record<string, Record<string, unknown>> }).components ??= {});
  (components.schemas ??= {}).ParleyError = {
    type: "object",
    required: ["error"],
    properties: {
      error: {
        type: "object",
        required: ["code", "message"],
        properties: { code: { type: "string" }, message: { type: "string" }, details: { type: "object" } },
      },
    },
  };
  return doc as Record<string, unknown>;
}

/** The Fastify app: `/health`, `/ready`, the `/v1` REST API, its OpenAPI document at `/docs`, the web app at `/` (and `/dev/` in dev mode). */
export async function createHttpApp(ctx: HttpContext, options: HttpAppOptions): Promise<ParleyFastify> {
  const base = Fastify({
    logger: options.logger,
    trustProxy: ctx.config.trustProxy,
    bodyLimit: 1024 * 1024,
    // Ids, refs and user ids may be 200 characters (percent-encoded, more); the default of 100 answered "No route".
    routerOptions: { maxParamLength: 1024 },
    // A URL that cannot be decoded is the caller's mistake, answered in Parley's error shape like any other.
    frameworkErrors: (err, request, reply) => handleHttpError(err, request, reply),
    // Requests Node's HTTP parser refuses (raw non-ASCII bytes in the path, broken headers) never reach a route.
    clientErrorHandler: answerClientError,
  });
  base.setValidatorCompiler(validatorCompiler);
  base.setSerializerCompiler(serializerCompiler);
  const app = base.withTypeProvider<ZodTypeProvider>();
  app.setErrorHandler(handleHttpError);
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({ error: { code: "not_found", message: `No route for ${request.method} ${request.url.split("?")[0]}` } });
  });

  await app.register(cors, {
    origin: ctx.config.corsOrigins.includes("*") ? true : [...ctx.config.corsOrigins],
    credentials: true,
    methods: ["GET", "POST", "PUT", "PATCH", "DELETE"],
    allowedHeaders: ["Authorization", "Content-Type", "Parley-User"],
  });

  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "Parley",
        version: ctx.version,
        description:
          "REST API of Parley, the self-hosted real-time chat service. Authenticate with a user JWT " +
          "(`Authorization: Bearer <jwt>`) or the server API key (acts as admin; add `Parley-User: <id>` to act as that user).",
      },
      components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
    },
    transform: jsonSchemaTransform,
    transformObject: describeUploads,
  });
  await app.register(swaggerUi, { routePrefix: "/docs" });

  await app.register(multipart, {
    // Two files are let through so that a second one is seen and refused rather than silently dropped.
    limits: { fileSize: ctx.config.uploadMaxBytes, files: 2, fields: 10, fieldSize: 1024, parts: 12 },
  });

  app.addHook("onRequest", async (request: FastifyRequest) => {
    if (!request.url.startsWith("/v1/")) return;
    const auth = (request.routeOptions.config as { auth?: "optional" | "none" }).auth;
    if (auth === "none") return;
    if (auth === "optional" && request.headers.authorization === undefined) return;
    const actAs = request.headers["parley-user"];
    const principal = await ctx.authenticator.authenticateBearer(
      request.headers.authorization,
      Array.isArray(actAs) ? actAs[0] : actAs,
    );
    (request as FastifyRequest & { principal?: Principal }).principal = principal;
  });

  registerHealthRoutes(app, ctx);
  registerMetricsRoute(app, ctx);
  registerIdentityRoutes(app, ctx);
  registerConversationRoutes(app, ctx);
  registerMessageRoutes(app, ctx);
  registerUploadRoutes(app, ctx);
  registerAdminRoutes(app, ctx);
  registerDirectoryRoutes(app, ctx);
  registerDevRoutes(app, ctx);
  await registerWebAppRoutes(app, ctx);
  return app;
}
