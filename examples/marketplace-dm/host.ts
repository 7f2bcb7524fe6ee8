import type { Conversation, Message } from "@parley/protocol";
import type { ParleyConnection } from "../lib/env.js";
import { ParleyApi } from "../lib/parley-api.js";
import { mintChatToken, type ChatUser } from "../lib/tokens.js";

/**
 * The marketplace's back end, as far as chat goes: it signs its users' chat
 * tokens with `PARLEY_JWT_SECRET`, opens a customer's inquiry with a
 * photographer, and posts messages on a user's behalf (a quote sent from a
 * form on the site) through the REST API with the API key.
 */
export class MarketplaceHost {
  readonly #parley: ParleyConnection;
  readonly #api: ParleyApi;

  constructor(parley: ParleyConnection) {
    this.#parley = parley;
    this.#api = new ParleyApi({ url: parley.url, credential: parley.apiKey });
  }

  /** `GET /chat-token` for the signed-in user (ids are the marketplace's own, e.g. `customer-41`). */
  chatToken(user: ChatUser): Promise<string> {
    return mintChatToken(this.#parley.jwtSecret, user);
  }

  /**
   * "Message this photographer": the direct conversation of the two. Asking
   * again returns the same one, so the button can simply call this.
   */
  async openInquiry(customerId: string, photographerId: string, listingId: number): Promise<Conversation> {
    const { conversation } = await this.#api.createConversation({
      kind: "direct",
      members: [customerId, photographerId],
      metadata: { listingId },
    });
    return conversation;
  }

  /** Posts as `userId` (seed 001's REST send); it reaches both people's open tabs live. */
  sendAs(userId: string, conversationId: string, text: string, metadata?: Record<string, unknown>): Promise<Message> {
    return this.#api.asUser(userId).sendMessage(conversationId, { text, ...(metadata ? { metadata } : {}) });
  }
}

/** What the browser does to attach a photo: `POST /v1/uploads` with the user's own token. */
export async function uploadPhoto(url: string, userToken: string, bytes: Uint8Array, filename: string, mimeType: string) {
  const api = new ParleyApi({ url, credential: userToken });
  return api.upload(new Blob([bytes], { type: mimeType }), filename);
}
