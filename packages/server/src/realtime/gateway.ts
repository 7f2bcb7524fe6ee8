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
  messageGetSchema,
  messageReactSchema,
  messageSendSchema,
  presenceGetSchema,
  typingSchema,
  authRefreshSchema,
  type Ack,
  type AckCallback,
  type ClientEventName,
  type ClientToServerEvents,
} from "@parley/protocol";
import type { FastifyBaseLogger } from "fastify";
import { Server, type ServerOptions } from "socket.io";
import type { z } from "zod";
import type { Authenticator } from "../auth/authenticator.js";
import type { Config } from "../config/config.js";
import { ParleyError } from "../domain/parley-error.js";
import type { ParleyDomain } from "../domain/parley-domain.js";
import type { SessionSummary } from "../domain/conversations.js";
import type { PresenceAudience } from "../domain/session-summary.js";
import { isOperator, type Principal } from "../domain/principal.js";
import type { PresenceStore } from "../presence/presence-store.js";
import type { Metrics } from "../metrics/metrics.js";
import type { RateLimiter } from "../rate-limit/rate-limiter.js";
import { toParleyError } from "../edge/to-parley-error.js";
import { startBroadcaster } from "./broadcaster.js";
import type { TypingEmit, TypingTracker } from "../typing/typing-tracker.js";
import { OPERATORS_ROOM, channelRoom, userRoom, watchRoom } from "./rooms.js";
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
  presence: PresenceStore;
  limiter: RateLimiter;
  metrics: Metrics;
  logger: FastifyBaseLogger;
  /** Builds the typing tracker (memory on one node, Redis on many). */
  createTyping: (emit: TypingEmit) => TypingTracker;
  /** The Socket.IO adapter for many nodes. @default the in-memory adapter */
  adapter?: ServerOptions["adapter"];
}

/** Per-user limits on events other than sends (SPEC: 5 typing/s, 100 others/s). */
const TYPING_RATE = { perSecond: 5, burst: 10 };
const EVENT_RATE = { perSecond: 100, burst: 200 };
/** A socket refused this many times within the window is flooding and is dropped. */
const FLOOD_STRIKES = 50;
const FLOOD_WINDOW_MS = 10_000;
/**
 * A client that stops reading makes the server buffer for it. Past either
 * bound its socket is dropped; it reconnects and resyncs when it can read again.
 */
const MAX_BUFFERED_PACKETS = 1000;
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
const SLOW_CONSUMER_CHECK_MS = 500;

/** What the server holds for a socket that has not been written out yet: queued packets and bytes. */
export function bufferedFor(socket: ParleySocket): { packets: number; bytes: number } {
  const conn = socket.conn as unknown as {
    writeBuffer: Array<{ data?: string | ArrayBufferLike }>;
    transport: { socket?: { bufferedAmount?: number } };
  };
  let bytes = conn.transport.socket?.bufferedAmount ?? 0;
  for (const packet of conn.writeBuffer) {
    bytes += typeof packet.data === "string" ? packet.data.length : (packet.data?.byteLength ?? 0);
  }
  return { packets: conn.writeBuffer.length, bytes };
}
/** Longest a close waits for the presence updates of the sockets it disconnected. */
const CLOSE_PRESENCE_MS = 5000;
/** setTimeout cannot wait longer than this. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** What the handlers share for one node. */
interface Shared {
  io: ParleyIo;
  domain: ParleyDomain;
  authenticator: Authenticator;
  limiter: RateLimiter;
  typing: TypingTracker;
  metrics: Metrics;
  logger: FastifyBaseLogger;
  rescheduleExpiry?: (socket: ParleySocket) => void;
  presenceOnline: (userIds: readonly string[]) => Promise<Set<string>>;
}

/**
 * The Socket.IO edge: authenticates the handshake, validates every event
 * against the protocol schema, calls the domain and acknowledges, and
 * forwards committed domain events to the right sockets.
 */
export function createGateway(server: HttpServer, options: GatewayOptions): Gateway {
  const { config, domain, authenticator, presence, limiter, metrics, logger, createTyping } = options;
  const io: ParleyIo = new Server(server, {
    ...(options.adapter ? { adapter: options.adapter } : {}),
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

  const typing = createTyping((conversationId, userId, name, isTyping) => {
    io.to(watchRoom(conversationId)).except(userRoom(userId)).emit("typing", { conversationId, userId, name, typing: isTyping });
  });
  const shared: Shared = {
    io,
    domain,
    authenticator,
    limiter,
    typing,
    metrics,
    logger,
    presenceOnline: (userIds) => presence.online(userIds),
  };

  function emitPresence(audience: PresenceAudience, userId: string, online: boolean, lastSeenAt: string | null): void {
    const rooms = [...audience.conversationIds.map(watchRoom), ...audience.directPartners.map(userRoom)];
    if (rooms.length > 0) io.to(rooms).emit("presence", { userId, online, lastSeenAt });
  }

  async function announcePresence(userId: string, online: boolean, lastSeenAt: string | null): Promise<void> {
    emitPresence(await domain.conversations.presenceAudience(userId), userId, online, lastSeenAt);
  }

  async function goneOffline(userId: string): Promise<void> {
    typing.clearUser(userId);
    const at = new Date().toISOString();
    await domain.users.touchLastSeen(userId, at);
    await announcePresence(userId, false, at);
  }

  /**
   * Presence work under way (a user coming online or going offline): on
   * close the sockets disconnect, and what their users' going offline
   * writes (when each was last seen) and announces must finish before the
   * database closes.
   */
  const presenceWork = new Set<Promise<void>>();
  function track(work: Promise<unknown>): void {
    const tracked = work.then(
      () => undefined,
      (err: unknown) => logger.error({ err }, "presence update failed"),
    );
    presenceWork.add(tracked);
    void tracked.finally(() => presenceWork.delete(tracked));
  }

  presence.onLapsed((userId) => track(goneOffline(userId)));

  io.on("connection", (socket) => {
    const principal = socket.data.principal;
    void socket.join(userRoom(principal.id));
    if (isOperator(principal)) void socket.join(OPERATORS_ROOM);
    registerHandlers(socket, shared);
    scheduleExpiry(socket);
    metrics.connections.inc();
    // One query serves the session event and the presence announcement.
    const summary = domain.conversations.sessionSummary(principal).then((first) => joinChannels(socket, first));
    track(
      presence.connect(principal.id, socket.id).then(async (first) => {
        if (first) emitPresence((await summary).presence, principal.id, true, null);
      }),
    );
    socket.on("disconnect", () => {
      metrics.connections.dec();
      clearTimeout(expiryTimers.get(socket.id));
      expiryTimers.delete(socket.id);
      const userId = socket.data.principal.id;
      track(presence.disconnect(userId, socket.id).then((last) => (last ? goneOffline(userId) : undefined)));
    });
    summary
      .then(({ conversations }) => {
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

  /**
   * Puts a connecting socket in the rooms of its user's channels (see
   * `channelRoom`), and returns the summary its session should carry. The
   * channels are read again after the join: a message stored, or a channel
   * joined or left, between the summary's read and the join would be
   * neither in the session nor live (and a leave's event may have taken the
   * socket out of a room before it was put in), so then the summary is read
   * again, and rooms of channels left are left. One joined meanwhile is in
   * already: its event reached the user's room, which the socket joined
   * first. Users in no channel pay nothing more.
   */
  async function joinChannels(socket: ParleySocket, first: SessionSummary): Promise<SessionSummary> {
    if (first.channelIds.length === 0) return first;
    await socket.join(first.channelIds.map(channelRoom));
    const now = await domain.conversations.channelCounters(socket.data.principal);
    const counted = new Map(first.conversations.map((c) => [c.id, c.lastSeq]));
    const still = new Set(now.map((c) => c.id));
    const left = first.channelIds.filter((id) => !still.has(id));
    for (const id of left) void socket.leave(channelRoom(id));
    const moved = left.length > 0 || now.some((c) => counted.get(c.id) !== c.lastSeq);
    return moved ? domain.conversations.sessionSummary(socket.data.principal) : first;
  }

  const expiryTimers = new Map<string, NodeJS.Timeout>();
  /** Sends `session:expired` and disconnects when the socket's token runs out (unless refreshed first). */
  function scheduleExpiry(socket: ParleySocket): void {
    clearTimeout(expiryTimers.get(socket.id));
    const exp = socket.data.principal.expiresAt;
    if (exp === null) return;
    const check = () => {
      const current = socket.data.principal.expiresAt;
      if (current === null || !socket.connected) return;
      const left = current * 1000 - Date.now();
      if (left > 0) {
        expiryTimers.set(socket.id, setTimeout(check, Math.min(left, MAX_TIMER_MS)));
        return;
      }
      socket.emit("session:expired", {});
      socket.disconnect(true);
    };
    expiryTimers.set(socket.id, setTimeout(check, Math.min(Math.max(exp * 1000 - Date.now(), 0), MAX_TIMER_MS)));
  }
  shared.rescheduleExpiry = scheduleExpiry;

  const slowConsumers = setInterval(() => {
    for (const socket of io.of("/").sockets.values()) {
      const { packets, bytes } = bufferedFor(socket);
      if (packets > MAX_BUFFERED_PACKETS || bytes > MAX_BUFFERED_BYTES) {
        logger.warn({ userId: socket.data.principal.id, packets, bytes }, "dropping a socket that stopped reading");
        socket.disconnect(true);
        socket.conn.close();
      }
    }
  }, SLOW_CONSUMER_CHECK_MS);
  slowConsumers.unref();

  const stopBroadcaster = startBroadcaster(io, domain, typing);
  // An erased user's sockets go at once, on every node: they held rooms and a
  // session of someone who no longer exists.
  const stopErasing = domain.events.onUserErased((userId) => io.in(userRoom(userId)).disconnectSockets(true));
  return {
    io,
    close: async () => {
      stopBroadcaster();
      stopErasing();
      clearInterval(slowConsumers);
      typing.close();
      for (const timer of expiryTimers.values()) clearTimeout(timer);
      await io.close();
      // Closing disconnected every socket: their users went offline. A
      // database or Redis that no longer answers does not hold the close.
      const deadline = new Promise<"late">((resolve) => setTimeout(() => resolve("late"), CLOSE_PRESENCE_MS).unref());
      while (presenceWork.size > 0) {
        if ((await Promise.race([Promise.all(presenceWork), deadline])) === "late") {
          logger.warn({ pending: presenceWork.size }, "closing before every user's going offline was recorded");
          break;
        }
      }
    },
  };
}

function registerHandlers(socket: ParleySocket, shared: Shared): void {
  const { domain, logger, limiter, typing, authenticator, metrics } = shared;
  const p = () => socket.data.principal;
  const { conversations, messages } = domain;
  let strikes: number[] = [];

  /** Counts a refusal; a socket refused too often in a short window is flooding and is dropped. */
  function strike(): void {
    const now = Date.now();
    strikes = strikes.filter((t) => now - t < FLOOD_WINDOW_MS);
    strikes.push(now);
    if (strikes.length >= FLOOD_STRIKES) {
      logger.warn({ userId: p().id }, "disconnecting a flooding socket");
      socket.disconnect(true);
    }
  }

  async function checkRate(event: string): Promise<void> {
    // Sends have their own per-user limit (PARLEY_RATE_MESSAGES), applied by the domain.
    if (event === "message:send") return;
    const rate = event === "typing" ? TYPING_RATE : EVENT_RATE;
    const decision = await limiter.take(`${event === "typing" ? "typing" : "events"}:${p().id}`, rate);
    if (!decision.allowed) {
      throw new ParleyError("rate_limited", "Too many events; slow down", { retryAfterMs: decision.retryAfterMs });
    }
  }

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
      const payload = args[0];
      const stopTimer = metrics.eventSeconds.startTimer({ event });
      const work = checkRate(event).then(() => {
        const parsed = schema.safeParse(payload);
        if (!parsed.success) throw parsed.error;
        return run(parsed.data);
      });
      work.then(
        (data) => {
          stopTimer();
          metrics.events.inc({ event, outcome: "ok" });
          ack?.({ ok: true, data });
        },
        (err: unknown) => {
          const { error, unexpected } = toParleyError(err);
          stopTimer();
          metrics.events.inc({ event, outcome: error.code });
          if (unexpected) logger.error({ err, event }, "socket event failed");
          if (error.code === "rate_limited") strike();
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

  on("conversation:join", conversationIdSchema, async (input) => {
    const { conversation, member } = await conversations.join(p(), input.conversationId);
    return { conversation, member };
  });

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

  on("message:get", messageGetSchema, (input) => messages.get(p(), input.conversationId, input.messageIds));

  on("typing", typingSchema, async (input) => {
    const principal = p();
    await conversations.requireReadable(principal, input.conversationId);
    typing.set(input.conversationId, principal.id, principal.name, input.typing);
    return null;
  });

  on("presence:get", presenceGetSchema, async (input) => {
    const visible = await conversations.visibleUsers(p(), input.userIds);
    const [online, lastSeen] = await Promise.all([shared.presenceOnline(visible), domain.users.lastSeen(visible)]);
    return visible.map((userId) => ({ userId, online: online.has(userId), lastSeenAt: lastSeen.get(userId) ?? null }));
  });

  on("auth:refresh", authRefreshSchema, async (input) => {
    const next: Principal = await authenticator.verifyToken(input.token);
    if (next.id !== p().id) throw new ParleyError("forbidden", "The new token is for another user");
    await domain.users.remember(next);
    socket.data.principal = next;
    if (isOperator(next)) await socket.join(OPERATORS_ROOM);
    else await socket.leave(OPERATORS_ROOM);
    shared.rescheduleExpiry?.(socket);
    return { expiresAt: next.expiresAt === null ? null : new Date(next.expiresAt * 1000).toISOString() };
  });
}
