import type { ClientToServerEvents, ServerToClientEvents } from "@parley/protocol";
import type { Server, Socket } from "socket.io";
import type { Principal } from "../domain/principal.js";

/** What the gateway keeps on each socket. */
export interface SocketData {
  principal: Principal;
}

/** Nothing is sent between nodes beyond what the adapter carries. */
export type InterServerEvents = Record<string, never>;

export type ParleyIo = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
export type ParleySocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
