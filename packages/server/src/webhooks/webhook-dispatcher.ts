import type { FastifyBaseLogger } from "fastify";
import type { Config } from "../config/config.js";
import type { Metrics } from "../metrics/metrics.js";
import type { Storage } from "../storage/database.js";
import { isoNow } from "../storage/mappers.js";
import { signWebhook } from "./webhook-signature.js";

const BATCH = 20;
const CONCURRENCY = 5;
/** A claimed row is left alone by other nodes for this long (a node dying mid-send is retried after it). */
const LEASE_MS = 60_000;
const REQUEST_TIMEOUT_MS = 10_000;
const MAX_DELAY_MS = 3_600_000;
const GIVE_UP_MS = 24 * 3_600_000;
const IDLE_POLL_MS = 1000;

/** Counts a dispatcher reports (for `/metrics`). */
export interface WebhookStats {
  delivered: number;
  failedAttempts: number;
  abandoned: number;
}

/**
 * Sends outbox rows to `PARLEY_WEBHOOK_URL`, at least once each: claims due
 * rows (on PostgreSQL with `FOR UPDATE SKIP LOCKED`, so nodes share the work
 * without sending a row twice per attempt), signs and posts them, and on
 * failure retries after `PARLEY_WEBHOOK_RETRY_MS`, doubling up to an hour,
 * for 24 hours.
 */
export class WebhookDispatcher {
  readonly stats: WebhookStats = { delivered: 0, failedAttempts: 0, abandoned: 0 };
  readonly #config: Config;
  readonly #storage: Storage;
  readonly #logger: FastifyBaseLogger;
  #running = false;
  #wake: (() => void) | null = null;
  #loop: Promise<void> | null = null;

  readonly #metrics: Metrics;

  constructor(config: Config, storage: Storage, logger: FastifyBaseLogger, metrics: Metrics) {
    this.#metrics = metrics;
    if (config.webhookUrl) metrics.countPendingWebhooks = () => this.pending();
    this.#config = config;
    this.#storage = storage;
    this.#logger = logger;
  }

  start(): void {
    if (!this.#config.webhookUrl || this.#running) return;
    this.#running = true;
    this.#loop = this.#run();
  }

  /** Looks for work now rather than at the next poll (called after a commit that wrote webhooks). */
  kick(): void {
    this.#wake?.();
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#wake?.();
    await this.#loop;
  }

  /** Rows still to be delivered. */
  async pending(): Promise<number> {
    const row = await this.#storage.db
      .selectFrom("webhook_outbox")
      .select((eb) => eb.fn.countAll().as("n"))
      .where("delivered_at", "is", null)
      .where("failed_at", "is", null)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async #run(): Promise<void> {
    while (this.#running) {
      let claimed = 0;
      try {
        claimed = await this.#drainOnce();
      } catch (err) {
        this.#logger.warn({ err }, "webhook dispatch failed; will retry");
      }
      if (!this.#running) break;
      if (claimed === BATCH) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, IDLE_POLL_MS);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = null;
    }
  }

  async #drainOnce(): Promise<number> {
    const now = new Date();
    const rows = await this.#storage.db.transaction().execute(async (trx) => {
      let query = trx
        .selectFrom("webhook_outbox")
        .select(["id", "body", "attempts", "created_at"])
        .where("delivered_at", "is", null)
        .where("failed_at", "is", null)
        .where("next_attempt_at", "<=", now.toISOString())
        .orderBy("next_attempt_at")
        .limit(BATCH);
      if (this.#storage.dialect === "postgres") query = query.forUpdate().skipLocked();
      const due = await query.execute();
      if (due.length > 0) {
        await trx
          .updateTable("webhook_outbox")
          .set({ next_attempt_at: new Date(now.getTime() + LEASE_MS).toISOString() })
          .where(
            "id",
            "in",
            due.map((r) => r.id),
          )
          .execute();
      }
      return due;
    });
    for (let i = 0; i < rows.length; i += CONCURRENCY) {
      await Promise.all(rows.slice(i, i + CONCURRENCY).map((row) => this.#deliver(row)));
    }
    return rows.length;
  }

  async #deliver(row: { id: string; body: string; attempts: number; created_at: string }): Promise<void> {
    const attempt = row.attempts + 1;
    const timestamp = Math.floor(Date.now() / 1000);
    let error: string | null = null;
    try {
      const response = await fetch(this.#config.webhookUrl!, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "user-agent": "Parley-Webhooks",
          "parley-webhook-id": row.id,
          "parley-timestamp": String(timestamp),
          "parley-attempt": String(attempt),
          "parley-signature": signWebhook(this.#config.webhookSecret!, timestamp, row.body),
        },
        body: row.body,
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      await response.body?.cancel();
      if (!response.ok) error = `HTTP ${response.status}`;
    } catch (err) {
      error = (err as Error).message;
    }

    const db = this.#storage.db.updateTable("webhook_outbox").where("id", "=", row.id);
    if (error === null) {
      await db.set({ attempts: attempt, delivered_at: isoNow(), last_error: null }).execute();
      this.stats.delivered++;
      this.#metrics.webhookAttempts.inc({ outcome: "delivered" });
      return;
    }
    this.stats.failedAttempts++;
    this.#metrics.webhookAttempts.inc({ outcome: "failed" });
    const age = Date.now() - Date.parse(row.created_at);
    if (age >= GIVE_UP_MS) {
      await db.set({ attempts: attempt, failed_at: isoNow(), last_error: error }).execute();
      this.stats.abandoned++;
      this.#logger.warn({ webhookId: row.id, attempts: attempt }, "webhook abandoned after 24 h");
      return;
    }
    const delay = Math.min(this.#config.webhookRetryMs * 2 ** (attempt - 1), MAX_DELAY_MS);
    await db
      .set({ attempts: attempt, next_attempt_at: new Date(Date.now() + delay).toISOString(), last_error: error })
      .execute();
  }
}
