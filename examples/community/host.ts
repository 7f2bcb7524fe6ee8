import type { Conversation, Message } from "@parley/protocol";
import type { ParleyConnection } from "../lib/env.js";
import { ParleyApi, type Stats } from "../lib/parley-api.js";
import { mintChatToken, type ChatUser } from "../lib/tokens.js";

/**
 * The community site's back end: creates the community channel once, signs
 * members' chat tokens (moderators get the `moderator` role), and shows
 * history and statistics on its own pages through the REST API.
 */
export class CommunityHost {
  readonly #parley: ParleyConnection;
  readonly #api: ParleyApi;

  constructor(parley: ParleyConnection) {
    this.#parley = parley;
    this.#api = new ParleyApi({ url: parley.url, credential: parley.apiKey });
  }

  chatToken(user: ChatUser): Promise<string> {
    return mintChatToken(this.#parley.jwtSecret, user);
  }

  /** The community channel; safe to call at every start (the `ref` makes it one channel). */
  async ensureChannel(ref: string, title: string): Promise<Conversation> {
    const { conversation } = await this.#api.createConversation({ kind: "channel", ref, title });
    return conversation;
  }

  /** One page of the channel for the site's archive page (`GET …/messages?beforeSeq=&limit=`), oldest first. */
  async archivePage(channelId: string, beforeSeq: number | undefined, limit: number): Promise<{ messages: Message[]; hasMore: boolean }> {
    return this.#api.messages(channelId, beforeSeq === undefined ? { limit } : { beforeSeq, limit });
  }

  /** Seed 003's statistics (`GET /v1/stats`, admin). */
  stats(): Promise<Stats> {
    return this.#api.stats();
  }
}
