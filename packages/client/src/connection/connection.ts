import type {
  Ack,
  AckCallback,
  ClientEventName,
  ClientToServerEvents,
  ServerToClientEvents,
  SessionInfo,
} from "@parley/protocol";
import { io, type Socket } from "socket.io-client";
import type { ResolvedOptions } from "../options.js";
import { ParleyClientError } from "../parley-client-error.js";
import { assertPacketFits } from "../sending/packet-size.js";
import { SnapshotStore } from "../store/readable-store.js";
import { TokenSource } from "./token-source.js";

/**
 * The public connection status.
 * - `connecting`: the first connection is being made.
 * - `connected`: signed in; live events flow and sends go out.
 * - `reconnecting`: the connection was lost and is being made again; sends wait.
 * - `disconnected`: stopped, by `disconnect()` or for good (a refused token: see `error`).
 */
export type ConnectionStatus = "connecting" | "connected" | "reconnecting" | "disconnected";

/** The signed-in user, as the server's `session` event names them. */
export type SessionUser = SessionInfo["user"];

/** What the connection looks like right now. */
export interface ConnectionState {
  status: ConnectionStatus;
  /**
   * Why the client stopped (`status: "disconnected"`), or the last failed
   * attempt while it keeps trying. A refused token is `unauthenticated` with
   * `details.reason` `missing`, `invalid` or `expired`.
   */
  error: ParleyClientError | null;
  /** The signed-in user, once known. */
  user: SessionUser | null;
}

/** The typed Socket.IO socket the SDK uses. */
export type ParleySocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** The payload type of a client→server event. */
export type EventPayload<E extends ClientEventName> = Parameters<ClientToServerEvents[E]>[0];

/** The `data` of a client→server event's successful ack. */
export type EventResult<E extends ClientEventName> =
  Parameters<ClientToServerEvents[E]>[1] extends AckCallback<infer T> ? T : never;

type LooseEmitter = {
  timeout(ms: number): { emit(event: string, payload: unknown, cb: (err: Error | null, ack: Ack<unknown>) => void): void };
};

/** Hooks the client gives the connection. */
export interface ConnectionHandlers {
  /** A `session` arrived: the connection is (again) usable. */
  session(session: SessionInfo, reconnected: boolean): void;
  /** The connection dropped (or was closed). */
  lost(): void;
}

/** How many fresh tokens in a row may be refused as expired before giving up. */
const MAX_EXPIRED_REFRESHES = 2;

/**
 * Owns the Socket.IO socket: maps its events to the public status, gets
 * tokens, stops for good on a refused token, refreshes the token before it
 * expires and reconnects where Socket.IO would not.
 */
export class Connection extends SnapshotStore<ConnectionState> {
  readonly socket: ParleySocket;
  readonly #options: ResolvedOptions;
  readonly #tokens: TokenSource;
  readonly #handlers: ConnectionHandlers;
  #status: ConnectionStatus = "disconnected";
  #error: ParleyClientError | null = null;
  #user: SessionUser | null = null;
  #everConnected = false;
  #stopped = true;
  #closed = false;
  #expiredNotice = false;
  #expiredRefreshes = 0;
  #tokenFailed: ParleyClientError | null = null;
  #retryTimer: ReturnType<typeof setTimeout> | null = null;
  #retryAttempts = 0;
  #refreshTimer: ReturnType<typeof setTimeout> | null = null;
  #waiters: Array<{ resolve: () => void; reject: (err: ParleyClientError) => void }> = [];

  constructor(options: ResolvedOptions, handlers: ConnectionHandlers) {
    super();
    this.#options = options;
    this.#handlers = handlers;
    this.#tokens = new TokenSource(options.token, options.getToken);
    this.socket = io(options.url, {
      path: options.path,
      transports: options.transports,
      autoConnect: false,
      forceNew: true,
      reconnectionDelay: options.reconnectDelayMs,
      reconnectionDelayMax: options.reconnectDelayMaxMs,
      auth: (cb) => {
        this.#tokenFailed = null;
        this.#tokens.current().then(
          (token) => cb({ token }),
          (err: unknown) => {
            this.#tokenFailed =
              err instanceof ParleyClientError ? err : new ParleyClientError("unauthenticated", "getToken failed", { reason: "missing" });
            cb({});
          },
        );
      },
    });
    this.#listen();
    this.#watchNetwork();
  }

  /**
   * The browser says when its network goes and comes back (`offline`,
   * `online` on `window`): without this a lost network shows only when
   * Socket.IO's ping times out, about 45 s later, and a network that is back
   * waits for the next backoff. Offline, the socket is dropped at once
   * (status `reconnecting`; Socket.IO keeps trying); online, it connects at
   * once. Outside a browser nothing changes.
   */
  #watchNetwork(): void {
    const target = globalThis as Partial<Pick<EventTarget, "addEventListener" | "removeEventListener">>;
    if (typeof target.addEventListener !== "function" || typeof target.removeEventListener !== "function") return;
    const offline = () => {
      if (!this.#stopped && this.socket.connected) this.socket.io.engine.close();
    };
    const online = () => {
      if (this.#stopped || this.socket.connected) return;
      // Skip what is left of the backoff: letting go of the socket closes its
      // manager (the last active socket on it), which clears the reconnection
      // timer, and connecting opens it again now.
      this.socket.disconnect();
      this.socket.connect();
    };
    target.addEventListener("offline", offline);
    target.addEventListener("online", online);
    this.#unwatchNetwork = () => {
      target.removeEventListener?.("offline", offline);
      target.removeEventListener?.("online", online);
    };
  }

  #unwatchNetwork: () => void = () => {};

  get status(): ConnectionStatus {
    return this.#status;
  }

  get user(): SessionUser | null {
    return this.#user;
  }

  /** `true` while signed in and able to send. */
  get connected(): boolean {
    return this.#status === "connected";
  }

  /** The token to call the REST API with: the one in use while it is valid, else a fresh one. */
  token(): Promise<string> {
    return this.#tokens.current();
  }

  /** Starts connecting (again, after `disconnect()` or a refused token). */
  connect(): void {
    if (this.#closed || !this.#stopped) return;
    this.#stopped = false;
    this.#expiredRefreshes = 0;
    this.#set(this.#everConnected ? "reconnecting" : "connecting", null);
    this.socket.connect();
  }

  /** Disconnects and stays disconnected until `connect()`. */
  disconnect(): void {
    this.#stop(null);
  }

  /** Disconnects for good. */
  close(): void {
    this.#closed = true;
    this.#unwatchNetwork();
    this.#stop(null);
    this.#rejectWaiters(new ParleyClientError("unavailable", "The client was closed"));
  }

  /** Resolves once connected; rejects when the client stops for good first. */
  whenConnected(): Promise<void> {
    if (this.connected) return Promise.resolve();
    if (this.#closed || (this.#stopped && this.#error)) {
      return Promise.reject(this.#error ?? new ParleyClientError("unavailable", "The client was closed"));
    }
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /**
   * Sends one client→server event and resolves with its ack's `data`.
   * Waits for the connection first unless `waitForConnection` is `false`
   * (then it rejects with `unavailable` while offline). Rejects with a
   * `ParleyClientError`: the server's error, `unavailable` when the
   * connection dropped or the ack did not come in time, `payload_too_large`
   * before sending anything too big for the transport.
   */
  async request<E extends ClientEventName>(
    event: E,
    payload: EventPayload<E>,
    options: { waitForConnection?: boolean; timeoutMs?: number } = {},
  ): Promise<EventResult<E>> {
    const ack = await this.emit(event, payload, options);
    if (!ack.ok) throw ParleyClientError.fromPayload(ack.error);
    return ack.data;
  }

  /** Like {@link request} but resolves with the whole ack, errors included. */
  async emit<E extends ClientEventName>(
    event: E,
    payload: EventPayload<E>,
    options: { waitForConnection?: boolean; timeoutMs?: number } = {},
  ): Promise<Ack<EventResult<E>>> {
    assertPacketFits(event, payload);
    if (!this.connected) {
      if (options.waitForConnection === false) throw new ParleyClientError("unavailable", "Not connected");
      await this.whenConnected();
    }
    const timeoutMs = options.timeoutMs ?? this.#options.ackTimeoutMs;
    return new Promise((resolve, reject) => {
      (this.socket as unknown as LooseEmitter).timeout(timeoutMs).emit(event, payload, (err, ack) => {
        if (err) reject(new ParleyClientError("unavailable", `No answer to ${event}: ${err.message}`));
        else resolve(ack as Ack<EventResult<E>>);
      });
    });
  }

  protected build(): ConnectionState {
    return { status: this.#status, error: this.#error, user: this.#user };
  }

  #set(status: ConnectionStatus, error: ParleyClientError | null): void {
    if (this.#status === status && this.#error === error) return;
    this.#status = status;
    this.#error = error;
    this.changed();
  }

  #listen(): void {
    const socket = this.socket;
    socket.on("session", (session) => {
      const reconnected = this.#everConnected;
      this.#everConnected = true;
      this.#retryAttempts = 0;
      this.#expiredRefreshes = 0;
      this.#expiredNotice = false;
      this.#user = session.user;
      this.#set("connected", null);
      this.#scheduleRefresh();
      const waiters = this.#waiters.splice(0);
      this.#handlers.session(session, reconnected);
      for (const waiter of waiters) waiter.resolve();
    });

    socket.on("session:expired", () => {
      this.#expiredNotice = true;
    });

    socket.on("disconnect", (reason) => {
      this.#clearRefresh();
      const wasConnected = this.#status === "connected";
      if (this.#stopped) {
        if (wasConnected) this.#set("disconnected", this.#error);
        this.#handlers.lost();
        return;
      }
      this.#set("reconnecting", null);
      this.#handlers.lost();
      if (reason === "io server disconnect") {
        // Socket.IO does not come back by itself after the server closed the socket.
        if (this.#expiredNotice) {
          this.#expiredNotice = false;
          if (!this.#tokens.canRefresh) {
            this.#stop(new ParleyClientError("unauthenticated", "The token expired", { reason: "expired" }));
            return;
          }
          this.#tokens.invalidate();
          this.socket.connect();
          return;
        }
        this.#retryLater();
      }
    });

    socket.on("connect_error", (err) => {
      if (this.#stopped) return;
      const refused = ParleyClientError.fromConnectError(err);
      if (this.#tokenFailed) {
        this.#set(this.#everConnected ? "reconnecting" : "connecting", this.#tokenFailed);
        this.#retryLater();
        return;
      }
      if (refused?.code === "unauthenticated") {
        if (refused.details?.reason === "expired" && this.#tokens.canRefresh && this.#expiredRefreshes < MAX_EXPIRED_REFRESHES) {
          this.#expiredRefreshes += 1;
          this.#tokens.invalidate();
          this.socket.connect();
          return;
        }
        this.#stop(refused);
        return;
      }
      const error = refused ?? new ParleyClientError("unavailable", `Cannot reach the server: ${err.message}`);
      this.#set(this.#everConnected ? "reconnecting" : "connecting", error);
      // Socket.IO retries transport errors itself; a refusal by the server it does not.
      if (!this.socket.active) this.#retryLater();
    });
  }

  #retryLater(): void {
    if (this.#retryTimer || this.#stopped) return;
    const delay = Math.min(this.#options.reconnectDelayMs * 2 ** this.#retryAttempts, this.#options.reconnectDelayMaxMs);
    this.#retryAttempts += 1;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      if (!this.#stopped && !this.socket.connected) this.socket.connect();
    }, delay);
  }

  #stop(error: ParleyClientError | null): void {
    this.#stopped = true;
    this.#clearRefresh();
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    this.socket.disconnect();
    this.#set("disconnected", error);
    if (error) this.#rejectWaiters(error);
  }

  #rejectWaiters(error: ParleyClientError): void {
    for (const waiter of this.#waiters.splice(0)) waiter.reject(error);
  }

  /** Refreshes the live connection's token with `auth:refresh` shortly before it expires. */
  #scheduleRefresh(): void {
    this.#clearRefresh();
    const exp = this.#tokens.expiresAt;
    if (!this.#tokens.canRefresh || exp === null) return;
    const left = exp * 1000 - Date.now();
    const margin = this.#options.refreshBeforeExpiryMs;
    // A token that lives less than twice the margin is refreshed halfway through its life.
    const delay = Math.max(0, Math.min(left > 2 * margin ? left - margin : left / 2, 2 ** 31 - 1));
    this.#refreshTimer = setTimeout(() => {
      this.#refreshTimer = null;
      void this.#refresh(exp);
    }, delay);
  }

  async #refresh(previousExp: number): Promise<void> {
    if (!this.connected) return;
    let token: string;
    try {
      token = await this.#tokens.fresh();
    } catch {
      return;
    }
    const exp = this.#tokens.expiresAt;
    if (!this.connected || exp === null || exp <= previousExp) return;
    try {
      await this.request("auth:refresh", { token }, { waitForConnection: false });
      this.#scheduleRefresh();
    } catch {
      // The server will expire the connection; the next connection uses the fresh token.
    }
  }

  #clearRefresh(): void {
    if (this.#refreshTimer) clearTimeout(this.#refreshTimer);
    this.#refreshTimer = null;
  }
}
