import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Message } from "@parley/protocol";

/** The body of every Parley webhook. */
export interface ParleyWebhook {
  id: string;
  type: string;
  createdAt: string;
  data: Record<string, unknown>;
}

/** `data` of a `message.created` webhook: the message and who it is for, online or not. */
export interface MessageCreated {
  message: Message;
  recipients: Array<{ userId: string; online: boolean }>;
}

/** Refuse webhooks signed longer ago than this (replays). */
const TOLERANCE_SECONDS = 300;

/**
 * Checks `Parley-Signature: v1=<hex HMAC-SHA256 of "{Parley-Timestamp}.{raw body}">`
 * with `PARLEY_WEBHOOK_SECRET`, and that the timestamp is recent. Verify the
 * raw bytes as received, before parsing them.
 */
export function verifyParleySignature(secret: string, headers: IncomingHttpHeaders, rawBody: string, now = Date.now()): boolean {
  const timestamp = Number(headers["parley-timestamp"]);
  const signature = headers["parley-signature"];
  if (!Number.isInteger(timestamp) || typeof signature !== "string") return false;
  if (Math.abs(now / 1000 - timestamp) > TOLERANCE_SECONDS) return false;
  const expected = Buffer.from("v1=" + createHmac("sha256", secret).update(`${timestamp}.${rawBody}`).digest("hex"));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/**
 * A host back end's endpoint for Parley's webhooks, `POST /parley/webhooks`:
 * verifies each request's signature before anything else, handles each
 * webhook once (Parley delivers at least once), and answers 2xx only when
 * it has handled it, so anything else is retried.
 */
export class WebhookReceiver {
  /** Webhooks accepted (signature valid), once each, in arrival order. */
  readonly received: ParleyWebhook[] = [];
  /** Requests refused because their signature did not check out. */
  readonly refused: Array<{ status: number; reason: string }> = [];
  readonly #secret: string;
  readonly #handlers: Array<(webhook: ParleyWebhook, attempt: number) => void> = [];
  /** Webhook ids already handled (a real host keeps these in its database). */
  readonly #seen = new Set<string>();
  #server: Server | null = null;

  /** `secret` is `PARLEY_WEBHOOK_SECRET`, the one Parley signs with. */
  constructor(secret: string) {
    this.#secret = secret;
  }

  /** Calls `handler` with every new, verified webhook. */
  on(handler: (webhook: ParleyWebhook, attempt: number) => void): void {
    this.#handlers.push(handler);
  }

  /** Starts listening; resolves with the URL to give Parley as `PARLEY_WEBHOOK_URL`. */
  async listen(port: number, hostname = "127.0.0.1"): Promise<string> {
    const server = createServer((req, res) => {
      if (req.method !== "POST" || req.url !== "/parley/webhooks") {
        res.writeHead(404).end();
        return;
      }
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        const status = this.#receive(req.headers, Buffer.concat(chunks).toString("utf8"));
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, hostname, resolve);
    });
    this.#server = server;
    const { port: bound } = server.address() as AddressInfo;
    return `http://${hostname}:${bound}/parley/webhooks`;
  }

  close(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    return new Promise((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }

  #receive(headers: IncomingHttpHeaders, rawBody: string): number {
    if (!verifyParleySignature(this.#secret, headers, rawBody)) {
      this.refused.push({ status: 401, reason: "bad or stale signature" });
      return 401;
    }
    const id = String(headers["parley-webhook-id"]);
    if (this.#seen.has(id)) return 204; // delivered again after a lost answer: already handled
    this.#seen.add(id);
    const webhook = JSON.parse(rawBody) as ParleyWebhook;
    this.received.push(webhook);
    const attempt = Number(headers["parley-attempt"] ?? 1);
    for (const handler of this.#handlers) handler(webhook, attempt);
    return 204;
  }
}
