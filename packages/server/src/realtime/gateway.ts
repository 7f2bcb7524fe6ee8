import type { Server as HttpServer } from "node:http";
import {
  MAX_PACKET_BYTES,
  conversationCreateSchema,
  conversationHistorySchema,
  conversationIdSchema,
  conversationListSchema,
  conversationOpenSchema,
  conversationSeqSchema,
  conversationSyncSchema,
  messageDeleteSchema,
  messageEditSchema,
  messageReactSchema,
  messageSendSchema,
  type Ack,
  type AckCallback,
  type ClientEventName,
  type ClientToServerEvents,
} from "@parley/protocol";
import type { FastifyBaseLogger } from "fastify";
import { Server } from "socket.io";
import type { z } from "zod";
import type { Authenticator } from "../auth/authenticator.js";
import type { Config } from "../config/config.js";
import type { ParleyDomain } from "../domain/parley-domain.js";
import { isOperator } from "../domain/principal.js";
import { toParleyError } from "../edge/to-parley-error.js";
import { startBroadcaster } from "./broadcaster.js";
import { OPERATORS_ROOM, userRoom, watchRoom } from "./rooms.js";
import type { ParleyIo, ParleySocket } from "./socket-types.js";

type AckData<E extends ClientEventName> = Parameters<ClientToServerEvents[E]>[1] extends AckCallback<infer T> ? T : never;

type LooseSocket = { on(event: string, listener: (...args: unknown[]) => void): void };

export interface Gateway {
  readonly io: ParleyIo;
  close(): Promise<void>;
}

export interface GatewayOptions {
  config: Config;
  domain: ParleyDomain;
  authenticator: Authenticator;
  logger: FastifyBaseLogger;
}

/**
 * The Socket.IO edge: authenticates the handshake, validates every event
 * against the protocol schema, calls the domain and acknowledges, and
 * forwards committed domain events to the right sockets.
 */
export function createGateway(server: HttpServer, options: GatewayOptions): Gateway {
  const { config, domain, authenticator, logger } = options;
  const io: ParleyIo = new Server(server, {
    path: "/socket.io",
    maxHttpBufferSize: MAX_PACKET_BYTES,
    serveClient: false,
    cors: {
      origin: config.corsOrigins.includes("*") ? true : [...config.corsOrigins],
      credentials: true,
    },
  });

  io.use((socket, next) => {
    const auth: unknown = socket.handshake.auth;
    const token = typeof auth === "object" && auth !== null ? (auth as { token?: unknown }).token : undefined;
    authenticator
      .verifyToken(typeof token === "string" ? token : undefined)
      .then(async (principal) => {
        await domain.users.remember(principal);
        socket.data.principal = principal;
        next();
      })
      .catch((err: unknown) => {
        const { error, unexpected } = toParleyError(err);
        if (unexpected) logger.error({ err }, "socket authentication failed");
        const connectError = new Error(error.message) as Error & { data?: unknown };
        connectError.data = error.toPayload();
        next(connectError);
      });
  });

  io.on("connection", (socket) => {
    const principal = socket.data.principal;
    void socket.join(userRoom(principal.id));
    if (isOperator(principal)) void socket.join(OPERATORS_ROOM);
    registerHandlers(socket, domain, logger);
    domain.conversations
      .sessionSummary(principal)
      .then((conversations) => {
        socket.emit("session", {
          user: { id: principal.id, name: principal.name, roles: [...principal.roles] },
          serverTime: new Date().toISOString(),
          conversations,
        });
      })
      .catch((err: unknown) => {
        logger.error({ err }, "could not build the session summary");
        socket.disconnect(true);
      });
  });

  const stopBroadcaster = startBroadcaster(io, domain);
  return {
    io,
    close: async () => {
      stopBroadcaster();
      await io.close();
    },
  };
}

function registerHandlers(socket: ParleySocket, domain: ParleyDomain, logger: FastifyBaseLogger): void {
  const p = () => socket.data.principal;
  const { conversations, messages } = domain;

  /**
   * One listener per event: validates the payload, runs the domain call and
   * answers through the ack. Never throws; a missing ack is tolerated.
   */
  function on<E extends ClientEventName, S extends z.ZodType>(
    event: E,
    schema: S,
    run: (input: z.output<S>) => Promise<AckData<E>>,
  ): void {
    (socket as unknown as LooseSocket).on(event, (...args: unknown[]) => {
      const last = args[args.length - 1];
      const ack = typeof last === "function" ? (last as (response: Ack<AckData<E>>) => void) : null;
      const payload = ack ? args[0] : args[0];
      const parsed = schema.safeParse(payload);
      const work = parsed.success ? run(parsed.data) : Promise.reject(parsed.error);
      work.then(
        (data) => ack?.({ ok: true, data }),
        (err: unknown) => {
          const { error, unexpected } = toParleyError(err);
          if (unexpected) logger.error({ err, event }, "socket event failed");
          ack?.({ ok: false, error: error.toPayload() });
        },
      );
    });
  }

  on("conversation:list", conversationListSchema, (input) => conversations.list(p(), input));

  on("conversation:create", conversationCreateSchema, async (input) => (await conversations.create(p(), input)).conversation);

  on("conversation:open", conversationOpenSchema, async (input) => {
    const opened = await messages.open(p(), input.conversationId, input.limit);
    await socket.join(watchRoom(input.conversationId));
    return opened;
  });

  on("conversation:close", conversationIdSchema, async (input) => {
    await socket.leave(watchRoom(input.conversationId));
    return null;
  });

  on("conversation:join", conversationIdSchema, (input) => conversations.join(p(), input.conversationId));

  on("conversation:leave", conversationIdSchema, async (input) => {
    await conversations.leave(p(), input.conversationId);
    return null;
  });

  on("conversation:sync", conversationSyncSchema, (input) =>
    messages.sync(p(), input.conversationId, input.afterSeq, input.limit),
  );

  on("conversation:history", conversationHistorySchema, (input) =>
    messages.history(p(), input.conversationId, input.beforeSeq, input.limit),
  );

  on("conversation:read", conversationSeqSchema, (input) => messages.markRead(p(), input.conversationId, input.seq));

  on("conversation:delivered", conversationSeqSchema, async (input) => {
    await messages.markDelivered(p(), input.conversationId, input.seq);
    return null;
  });

  on("conversation:resolve", conversationIdSchema, (input) => conversations.resolve(p(), input.conversationId));

  on("message:send", messageSendSchema, async ({ conversationId, ...body }) => {
    return (await messages.send(p(), conversationId, body)).message;
  });

  on("message:edit", messageEditSchema, (input) => messages.edit(p(), input.conversationId, input.messageId, input.text));

  on("message:delete", messageDeleteSchema, (input) =>
    messages.delete(p(), input.conversationId, input.messageId, input.scope),
  );

  on("message:react", messageReactSchema, (input) =>
    messages.react(p(), input.conversationId, input.messageId, input.emoji, input.on),
  );
}
