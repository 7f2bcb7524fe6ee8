import type { Ack, Attachment, Message, MessageSendPayload } from "@parley/protocol";
import { isRetryable, ParleyClientError } from "../parley-client-error.js";
import type { PendingSend } from "../store/conversation-store.js";

/** How the outbox reaches the server. */
export interface OutboxTransport {
  /** `true` while sends may go out. */
  isConnected(): boolean;
  /** Emits `message:send`; rejects when the ack times out or the connection drops first. */
  send(payload: MessageSendPayload): Promise<Ack<Message>>;
}

/** What the outbox tells the stores. */
export interface OutboxEvents {
  /** A send is waiting or has failed; show it. */
  pending(conversationId: string, send: PendingSend): void;
  /** A send was stored; show the stored message. */
  stored(message: Message): void;
  /** A failed send was discarded. */
  discarded(conversationId: string, clientId: string): void;
}

type EntryState = "queued" | "in_flight" | "waiting" | "failed";

interface Entry {
  readonly payload: MessageSendPayload;
  readonly createdAt: string;
  /** Attachments as the UI shows them while the send is pending. */
  readonly display: Attachment[];
  state: EntryState;
  attempts: number;
  error: ParleyClientError | null;
  landed: Message | null;
  timer: ReturnType<typeof setTimeout> | null;
  resolve: (message: Message) => void;
  reject: (error: ParleyClientError) => void;
}

const BACKOFF_MIN_MS = 250;
const BACKOFF_MAX_MS = 10_000;

/**
 * Sends messages one conversation at a time, in the order they were written,
 * and keeps them while the connection is down or an ack is overdue. Every
 * retry reuses the message's `clientId`, so the server stores it once; a
 * retry answered with the message stored the first time is a success.
 */
export class Outbox {
  readonly #transport: OutboxTransport;
  readonly #events: OutboxEvents;
  readonly #queues = new Map<string, Entry[]>();
  readonly #failed = new Map<string, Entry>();
  #closed = false;

  constructor(transport: OutboxTransport, events: OutboxEvents) {
    this.#transport = transport;
    this.#events = events;
  }

  /**
   * Queues a send; resolves with the stored message, rejects when it fails
   * for good. `display` is what the pending message shows as its attachments.
   */
  enqueue(payload: MessageSendPayload, display: Attachment[] = []): Promise<Message> {
    return this.#add(payload, new Date().toISOString(), display);
  }

  #add(payload: MessageSendPayload, createdAt: string, display: Attachment[]): Promise<Message> {
    let resolve!: (message: Message) => void;
    let reject!: (error: ParleyClientError) => void;
    const promise = new Promise<Message>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // A caller that does not await a send must not cause an unhandled rejection.
    promise.catch(() => undefined);
    const entry: Entry = { payload, createdAt, display, state: "queued", attempts: 0, error: null, landed: null, timer: null, resolve, reject };
    const queue = this.#queues.get(payload.conversationId) ?? [];
    queue.push(entry);
    this.#queues.set(payload.conversationId, queue);
    this.#report(entry);
    this.#pump(payload.conversationId);
    return promise;
  }

  /** Sends a failed message again, with the same `clientId`; `null` when there is no such failed message. */
  retry(clientId: string): Promise<Message> | null {
    const entry = this.#failed.get(clientId);
    if (!entry) return null;
    this.#failed.delete(clientId);
    return this.#add(entry.payload, entry.createdAt, entry.display);
  }

  /** Forgets a failed message. */
  discard(clientId: string): boolean {
    const entry = this.#failed.get(clientId);
    if (!entry) return false;
    this.#failed.delete(clientId);
    this.#events.discarded(entry.payload.conversationId, clientId);
    return true;
  }

  /** The stored copy of one of our sends arrived by another way (a live event or a sync). */
  landed(message: Message): void {
    if (message.clientId === null) return;
    const queue = this.#queues.get(message.conversationId);
    const entry = queue?.find((e) => e.payload.clientId === message.clientId);
    if (!entry) return;
    entry.landed = message;
    if (entry.state !== "in_flight") this.#finish(entry, message);
  }

  /** The connection is back: send what waited. */
  resume(): void {
    for (const conversationId of this.#queues.keys()) this.#pump(conversationId);
  }

  /** Number of sends not yet stored (queued, in flight or waiting to retry). */
  get size(): number {
    let n = 0;
    for (const queue of this.#queues.values()) n += queue.length;
    return n;
  }

  /** Stops every timer and fails what is left with `unavailable`. */
  close(): void {
    this.#closed = true;
    for (const queue of this.#queues.values()) {
      for (const entry of queue) {
        if (entry.timer) clearTimeout(entry.timer);
        entry.reject(new ParleyClientError("unavailable", "The client was closed before the message was sent"));
      }
    }
    this.#queues.clear();
  }

  #pump(conversationId: string): void {
    if (this.#closed) return;
    const queue = this.#queues.get(conversationId);
    const head = queue?.[0];
    if (!queue || !head) {
      this.#queues.delete(conversationId);
      return;
    }
    if (head.landed) {
      this.#finish(head, head.landed);
      return;
    }
    if (head.state !== "queued" || !this.#transport.isConnected()) return;
    head.state = "in_flight";
    head.attempts += 1;
    this.#transport.send(head.payload).then(
      (ack) => this.#answered(head, ack),
      () => this.#lost(head),
    );
  }

  #answered(entry: Entry, ack: Ack<Message>): void {
    if (this.#closed) return;
    if (ack.ok) {
      this.#finish(entry, ack.data);
      return;
    }
    if (entry.landed) {
      this.#finish(entry, entry.landed);
      return;
    }
    const error = ParleyClientError.fromPayload(ack.error);
    if (isRetryable(error)) {
      const hinted = typeof error.details?.retryAfterMs === "number" ? error.details.retryAfterMs : 0;
      this.#wait(entry, Math.max(hinted, backoff(entry.attempts)));
      return;
    }
    this.#remove(entry);
    entry.state = "failed";
    entry.error = error;
    this.#failed.set(entry.payload.clientId, entry);
    this.#report(entry);
    entry.reject(error);
    this.#pump(entry.payload.conversationId);
  }

  /** No answer: the ack timed out or the connection dropped. The message may or may not be stored. */
  #lost(entry: Entry): void {
    if (this.#closed) return;
    if (entry.landed) {
      this.#finish(entry, entry.landed);
      return;
    }
    if (this.#transport.isConnected()) {
      this.#wait(entry, backoff(entry.attempts));
      return;
    }
    entry.state = "queued";
  }

  #wait(entry: Entry, ms: number): void {
    entry.state = "waiting";
    entry.timer = setTimeout(() => {
      entry.timer = null;
      entry.state = "queued";
      this.#pump(entry.payload.conversationId);
    }, ms);
  }

  #finish(entry: Entry, message: Message): void {
    if (entry.timer) clearTimeout(entry.timer);
    this.#remove(entry);
    this.#events.stored(message);
    entry.resolve(message);
    this.#pump(entry.payload.conversationId);
  }

  #remove(entry: Entry): void {
    const queue = this.#queues.get(entry.payload.conversationId);
    if (!queue) return;
    const index = queue.indexOf(entry);
    if (index >= 0) queue.splice(index, 1);
  }

  #report(entry: Entry): void {
    const { payload } = entry;
    this.#events.pending(payload.conversationId, {
      clientId: payload.clientId,
      text: payload.text ?? null,
      type: payload.type ?? "text",
      replyTo: payload.replyTo ?? null,
      metadata: payload.metadata ?? {},
      attachments: entry.display,
      createdAt: entry.createdAt,
      state: entry.state === "failed" ? "failed" : "pending",
      error: entry.error,
    });
  }
}

function backoff(attempts: number): number {
  return Math.min(BACKOFF_MIN_MS * 2 ** Math.max(0, attempts - 1), BACKOFF_MAX_MS);
}
