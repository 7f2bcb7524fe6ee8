import type { Message } from "@parley/protocol";
import { io } from "socket.io-client";
import type { ClientSocket } from "./test-server.js";

/**
 * A client that does at the protocol level what the SDK does: reconnects,
 * syncs the conversation from the last point it had synced to, merges by
 * message id, and re-sends unacknowledged messages with their `clientId`
 * until the server acknowledges them.
 */
export class ResilientClient {
  readonly socket: ClientSocket;
  /** What the user would see: one entry per message id. */
  readonly view = new Map<string, Message>();
  /** `clientId` → text of sends not yet acknowledged. */
  readonly pending = new Map<string, string>();
  /** `clientId` → id of the acknowledged message. */
  readonly acked = new Map<string, string>();
  /** Errors answered to sends, by code. */
  readonly errors = new Map<string, number>();
  connects = 0;
  liveEvents = 0;
  #cursor = 0;
  #flushing = false;
  #timer: NodeJS.Timeout;

  constructor(
    url: string,
    token: string,
    readonly conversationId: string,
  ) {
    this.socket = io(url, {
      auth: { token },
      transports: ["websocket"],
      reconnectionDelay: 100,
      reconnectionDelayMax: 500,
      forceNew: true,
    });
    this.socket.on("connect", () => {
      this.connects++;
      void this.sync().then(() => this.#flush());
    });
    const merge = (m: Message) => {
      if (m.conversationId !== this.conversationId) return;
      this.liveEvents++;
      this.view.set(m.id, m);
    };
    this.socket.on("message:new", merge);
    this.socket.on("message:updated", merge);
    this.#timer = setInterval(() => void this.#flush(), 200);
  }

  /** Resolves once connected and synced for the first time. */
  async ready(timeoutMs = 10_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (this.connects === 0 || !this.socket.connected) {
      if (Date.now() > end) throw new Error("client never connected");
      await new Promise((r) => setTimeout(r, 20));
    }
    await this.sync();
  }

  /** Fetches everything after the last synced point (live events do not move it: they may arrive out of order). */
  async sync(): Promise<void> {
    let after = this.#cursor;
    for (let page = 0; page < 1000; page++) {
      let ack;
      try {
        ack = await this.socket.timeout(5000).emitWithAck("conversation:sync", { conversationId: this.conversationId, afterSeq: after, limit: 200 });
      } catch {
        return;
      }
      if (!ack.ok) return;
      for (const m of ack.data.messages) this.view.set(m.id, m);
      if (!ack.data.hasMore) {
        this.#cursor = ack.data.lastSeq;
        return;
      }
      after = ack.data.messages.at(-1)!.revSeq;
    }
  }

  send(clientId: string, text: string): void {
    this.pending.set(clientId, text);
    void this.#flush();
  }

  async #flush(): Promise<void> {
    if (this.#flushing || !this.socket.connected) return;
    this.#flushing = true;
    try {
      for (const [clientId, text] of [...this.pending]) {
        if (!this.socket.connected) break;
        try {
          const ack = await this.socket
            .timeout(3000)
            .emitWithAck("message:send", { conversationId: this.conversationId, clientId, text });
          if (ack.ok) {
            this.pending.delete(clientId);
            this.acked.set(clientId, ack.data.id);
            this.view.set(ack.data.id, ack.data);
          } else {
            this.errors.set(ack.error.code, (this.errors.get(ack.error.code) ?? 0) + 1);
          }
        } catch {
          // Timed out or disconnected: it stays pending and is sent again.
        }
      }
    } finally {
      this.#flushing = false;
    }
  }

  /** Resolves when every send has been acknowledged. */
  async drained(timeoutMs = 30_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (this.pending.size > 0) {
      if (Date.now() > end) throw new Error(`${this.pending.size} sends never acknowledged`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  close(): void {
    clearInterval(this.#timer);
    this.socket.close();
  }
}
