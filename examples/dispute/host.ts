import type { Conversation } from "@parley/protocol";
import type { ParleyConnection } from "../lib/env.js";
import { ParleyApi } from "../lib/parley-api.js";
import { mintChatToken, type ChatUser } from "../lib/tokens.js";
import type { MessageCreated, WebhookReceiver } from "./webhooks.js";

/** A push notification the host would send to a phone. */
export interface PushNotification {
  userId: string;
  title: string;
  body: string;
  conversationId: string;
}

/**
 * The service platform's back end: signs chat tokens, opens a job's chat
 * between customer and provider, marks it disputed, and listens to Parley's
 * webhooks to push a notification to every recipient of a new message who
 * is offline (seed 002's offline notifications).
 */
export class DisputeHost {
  /** Notifications sent to offline users (here they are only recorded; a real host hands them to its push service). */
  readonly pushes: PushNotification[] = [];

  readonly #parley: ParleyConnection;
  readonly #api: ParleyApi;

  constructor(parley: ParleyConnection, webhooks: WebhookReceiver) {
    this.#parley = parley;
    this.#api = new ParleyApi({ url: parley.url, credential: parley.apiKey });
    webhooks.on((webhook) => {
      if (webhook.type === "message.created") this.#notifyOffline(webhook.data as unknown as MessageCreated);
    });
  }

  chatToken(user: ChatUser): Promise<string> {
    return mintChatToken(this.#parley.jwtSecret, user);
  }

  /** A job's chat: a group of the customer and the provider, found again by `ref`. */
  async openJobChat(jobId: number, customerId: string, providerId: string): Promise<Conversation> {
    const { conversation } = await this.#api.createConversation({
      kind: "group",
      ref: `job:${jobId}`,
      title: `Job #${jobId}`,
      members: [customerId, providerId],
    });
    return conversation;
  }

  /** Marks the job's chat as disputed, for the moderators' queue (`PATCH /v1/conversations/:id`). */
  async markDisputed(conversation: Conversation, reason: string): Promise<Conversation> {
    const body = { metadata: { ...conversation.metadata, dispute: { status: "open", reason } } };
    const { conversation: updated } = await this.#api.request<{ conversation: Conversation }>("PATCH", `/v1/conversations/${conversation.id}`, body);
    return updated;
  }

  #notifyOffline({ message, recipients }: MessageCreated): void {
    if (message.type === "system") return;
    for (const recipient of recipients) {
      if (recipient.online) continue;
      const push = { userId: recipient.userId, title: message.senderName, body: message.text ?? "sent an attachment", conversationId: message.conversationId };
      this.pushes.push(push);
    }
  }
}
