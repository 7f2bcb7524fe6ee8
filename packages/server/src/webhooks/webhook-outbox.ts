import { randomUUID } from "node:crypto";
import type { Config } from "../config/config.js";
import type { DomainEvent } from "../domain/domain-events.js";
import type { Db, EventRecorder } from "../domain/unit-of-work.js";
import type { PresenceStore } from "../presence/presence-store.js";
import { isoNow } from "../storage/mappers.js";

/** How long a send waits to learn which recipients are online before calling them offline. */
const PRESENCE_DEADLINE_MS = 250;

/** Webhook types, named `noun.verb`. */
export type WebhookType =
  | "message.created"
  | "message.updated"
  | "message.deleted"
  | "conversation.created"
  | "conversation.updated"
  | "member.joined"
  | "member.left";

/** The body Parley posts: `{ id, type, createdAt, data }`. */
export interface WebhookBody {
  id: string;
  type: WebhookType;
  createdAt: string;
  data: Record<string, unknown>;
}

/**
 * Turns domain events into webhook rows in the transaction that made the
 * change, so a webhook exists exactly when its change was committed.
 * Does nothing when no webhook URL is configured.
 */
export class WebhookOutbox implements EventRecorder {
  readonly #config: Config;
  readonly #presence: PresenceStore;

  constructor(config: Config, presence: PresenceStore) {
    this.#config = config;
    this.#presence = presence;
  }

  /** Whether `record` writes anything: only when a webhook URL is configured. */
  get writes(): boolean {
    return Boolean(this.#config.webhookUrl);
  }

  async record(trx: Db, events: readonly DomainEvent[]): Promise<void> {
    if (!this.writes) return;
    const rows = [];
    const now = isoNow();
    for (const event of events) {
      const data = await this.#data(event);
      if (!data) continue;
      const body: WebhookBody = { id: randomUUID(), type: event.type as WebhookType, createdAt: now, data };
      rows.push({ id: body.id, type: body.type, body: JSON.stringify(body), created_at: now, next_attempt_at: now });
    }
    if (rows.length > 0) await trx.insertInto("webhook_outbox").values(rows).execute();
  }

  /**
   * Who of these users is online, asked with a short deadline: this runs
   * inside the send's transaction, and a presence store that is away (Redis
   * restarting) must neither fail the send nor hold its locks. Unknown
   * counts as offline, so the host pushes rather than stays silent.
   */
  async #onlineOrNone(userIds: readonly string[]): Promise<ReadonlySet<string>> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<ReadonlySet<string>>((resolve) => {
      timer = setTimeout(() => resolve(new Set()), PRESENCE_DEADLINE_MS);
    });
    try {
      return await Promise.race([this.#presence.online(userIds).catch(() => new Set<string>()), deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  async #data(event: DomainEvent): Promise<Record<string, unknown> | null> {
    switch (event.type) {
      case "message.created": {
        if (event.message.hidden) return null;
        const ids = event.audience.userIds.filter((id) => id !== event.message.senderId);
        const online = await this.#onlineOrNone(ids);
        return { message: event.message, recipients: ids.map((userId) => ({ userId, online: online.has(userId) })) };
      }
      case "message.updated":
      case "message.deleted":
        return event.message.hidden ? null : { message: event.message };
      case "conversation.created":
      case "conversation.updated":
        return { conversation: event.conversation };
      case "member.joined":
      case "member.left":
        return { conversationId: event.conversation.id, member: event.member };
      default:
        return null;
    }
  }
}
