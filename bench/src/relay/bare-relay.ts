import { randomUUID } from "node:crypto";
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { MAX_PACKET_BYTES, type HistoryPage, type Message, type SessionInfo } from "@parley/protocol";
import { Server } from "socket.io";
import type { RunningTarget } from "../targets/running-target.js";
import type { TransportSettings } from "../targets/target-spec.js";

type Ack = (response: unknown) => void;

interface RelayHandshake {
  user?: unknown;
  rooms?: unknown;
}

function relayMessage(conversationId: string, seq: number, senderId: string, text: string, clientId: string | null): Message {
  return {
    id: randomUUID(),
    conversationId,
    seq,
    revSeq: seq,
    senderId,
    senderName: senderId,
    type: "text",
    text,
    attachments: [],
    replyTo: null,
    metadata: {},
    clientId,
    createdAt: new Date().toISOString(),
    editedAt: null,
    deletedAt: null,
    reactions: {},
  };
}

/** A page of 50 messages shaped like Parley's, answered from memory for `conversation:history`. */
export function cannedHistoryPage(size = 50): HistoryPage {
  const messages: Message[] = [];
  for (let i = 1; i <= size; i++) {
    messages.push(relayMessage("relay-history", i, `user${i % 4}`, `History message number ${i} with some ordinary chat text`, null));
  }
  return { messages, hasMore: true };
}

/**
 * The baseline: the chat every seed team hand-wrote. No authentication, no
 * storage: a client names itself and its rooms in the handshake, and
 * `message:send` is stamped and broadcast to the room at once. It speaks
 * the subset of Parley's events the scenarios use, with messages of the
 * same shape, so both servers put the same bytes on the wire.
 */
export function attachBareRelay(http: HttpServer, transport: TransportSettings): Server {
  const io = new Server(http, {
    path: "/socket.io",
    serveClient: false,
    maxHttpBufferSize: MAX_PACKET_BYTES,
    cors: { origin: true, credentials: true },
    ...(transport.perMessageDeflate ? { perMessageDeflate: { threshold: 1024 } } : {}),
  });
  if (transport.discardRequest) {
    io.engine.on("connection", (rawSocket: { request: unknown }) => {
      rawSocket.request = null;
    });
  }
  const page = cannedHistoryPage();
  const seqs = new Map<string, number>();

  io.on("connection", (socket) => {
    const auth = (socket.handshake.auth ?? {}) as RelayHandshake;
    const user = typeof auth.user === "string" ? auth.user : socket.id;
    const rooms = Array.isArray(auth.rooms) ? auth.rooms.filter((r): r is string => typeof r === "string") : [];
    if (rooms.length > 0) void socket.join(rooms);
    const session: SessionInfo = {
      user: { id: user, name: user, roles: [] },
      serverTime: new Date().toISOString(),
      conversations: rooms.map((id) => ({ id, lastSeq: seqs.get(id) ?? 0, unread: 0, lastReadSeq: 0 })),
    };
    socket.emit("session", session);

    socket.on("message:send", (payload: { conversationId?: unknown; clientId?: unknown; text?: unknown }, ack?: Ack) => {
      if (typeof payload?.conversationId !== "string") {
        ack?.({ ok: false, error: { code: "invalid_argument", message: "conversationId is required" } });
        return;
      }
      const seq = (seqs.get(payload.conversationId) ?? 0) + 1;
      seqs.set(payload.conversationId, seq);
      const message = relayMessage(
        payload.conversationId,
        seq,
        user,
        typeof payload.text === "string" ? payload.text : "",
        typeof payload.clientId === "string" ? payload.clientId : null,
      );
      io.to(payload.conversationId).emit("message:new", message);
      ack?.({ ok: true, data: message });
    });

    socket.on("conversation:history", (_payload: unknown, ack?: Ack) => ack?.({ ok: true, data: page }));
    socket.on("conversation:sync", (_payload: unknown, ack?: Ack) =>
      ack?.({ ok: true, data: { messages: page.messages, lastSeq: page.messages.length, hasMore: true } }),
    );
  });
  return io;
}

/** Starts the relay on 127.0.0.1 on a free port. */
export async function startBareRelay(transport: TransportSettings): Promise<RunningTarget> {
  const http = createServer();
  const io = attachBareRelay(http, transport);
  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    connections: () => io.engine.clientsCount,
    close: async () => {
      await io.close();
    },
  };
}
