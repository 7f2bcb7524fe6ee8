import type { Server } from "socket.io";
import type { TransportSettings } from "./target-spec.js";

interface EngineInternals {
  opts: { perMessageDeflate?: unknown };
  init(): void;
  on(event: "connection", listener: (socket: { request: unknown }) => void): void;
}

/**
 * Applies the transport settings under test to a Socket.IO server that is
 * already built (Parley builds its own), the way an operator would through
 * engine.io options: permessage-deflate needs engine.io to rebuild its
 * WebSocket server; dropping the first request is the recipe from
 * Socket.IO's "memory usage" guide.
 */
export function applyTransportSettings(io: Server, settings: TransportSettings): void {
  const engine = io.engine as unknown as EngineInternals;
  if (settings.perMessageDeflate) {
    engine.opts.perMessageDeflate = { threshold: 1024 };
    engine.init();
  }
  if (settings.discardRequest) {
    engine.on("connection", (rawSocket) => {
      rawSocket.request = null;
    });
  }
}
