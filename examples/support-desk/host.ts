import type { ConversationSummary } from "@parley/protocol";
import type { ParleyConnection } from "../lib/env.js";
import { ParleyApi } from "../lib/parley-api.js";
import { mintChatToken, type ChatUser } from "../lib/tokens.js";

/** A visitor's guest session, as `POST /v1/guests` answers. */
export interface GuestSession {
  token: string;
  expiresAt: string | null;
  /** The visitor's Parley user id (`guest-…`). */
  userId: string;
}

/**
 * What the support widget on the public site does first: asks Parley for a
 * guest token (needs `PARLEY_GUESTS=on`; no account, no host back end
 * involved; rate-limited per IP address).
 */
export async function startGuestSession(url: string, name: string): Promise<GuestSession> {
  const response = await fetch(`${url}/v1/guests`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name }),
  });
  const body = (await response.json()) as GuestSession & { error?: { message: string } };
  if (!response.ok) throw new Error(`POST /v1/guests: ${response.status} ${body.error?.message ?? ""} (is PARLEY_GUESTS=on?)`);
  return body;
}

/**
 * The company's back end: signs its staff's chat tokens with the `operator`
 * role, and serves the support dashboard's "recent chats" from Parley's
 * inbox of an operator (`GET /v1/conversations` acting as them).
 */
export class SupportHost {
  readonly #parley: ParleyConnection;
  readonly #api: ParleyApi;

  constructor(parley: ParleyConnection) {
    this.#parley = parley;
    this.#api = new ParleyApi({ url: parley.url, credential: parley.apiKey });
  }

  /** A token for a member of staff; `operator` lets them see and answer every support conversation. */
  operatorToken(operator: ChatUser): Promise<string> {
    return mintChatToken(this.#parley.jwtSecret, { ...operator, roles: [...(operator.roles ?? []), "operator"] });
  }

  /** Seed 004's "recent chats": every support conversation with this operator's own unread count. */
  async recentChats(operatorId: string, status?: "open" | "closed"): Promise<ConversationSummary[]> {
    const page = await this.#api.asUser(operatorId).listConversations({ kind: "support", ...(status ? { status } : {}) });
    return page.conversations;
  }
}
