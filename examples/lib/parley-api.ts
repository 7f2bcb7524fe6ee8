import type {
  Attachment,
  Conversation,
  ConversationCreatePayload,
  ConversationPage,
  ErrorCode,
  Member,
  Message,
  MessageSendBody,
} from "@parley/protocol";

/** A refused REST call: the HTTP status and Parley's `{ error: { code, message, details } }`. */
export class ParleyApiError extends Error {
  readonly status: number;
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(status: number, code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(`${code} (${status}): ${message}`);
    this.name = "ParleyApiError";
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/** `{ conversation, members }`, and whether this call created it (201) or found it (200). */
export interface ConversationWithMembers {
  conversation: Conversation;
  members: Member[];
  created: boolean;
}

/** `GET /v1/stats`. */
export interface Stats {
  totals: { messages: number; users: number; conversations: Record<Conversation["kind"], number> };
  messagesPerDay: Array<{ day: string; count: number }>;
}

export interface MessagePage {
  messages: Message[];
  hasMore: boolean;
}

/**
 * Parley's REST API (`/v1`) as a host back end calls it: with the API key
 * (acting as admin, or as one user with `actAs`), or, from a user's side,
 * with that user's token.
 *
 * @example
 * const api = new ParleyApi({ url: "http://localhost:4000", credential: process.env.PARLEY_API_KEY! });
 * const { conversation } = await api.createConversation({ kind: "group", ref: "booking:42", members: ["user:7", "bartender:7"] });
 * await api.asUser("user:7").sendMessage(conversation.id, { text: "Booking confirmed" });
 */
export class ParleyApi {
  readonly url: string;
  readonly #credential: string;
  readonly #actAs: string | undefined;

  constructor(options: { url: string; credential: string; actAs?: string }) {
    this.url = options.url.replace(/\/+$/, "");
    this.#credential = options.credential;
    this.#actAs = options.actAs;
  }

  /** The same API key acting as exactly this user, with that user's permissions (`Parley-User`). */
  asUser(userId: string): ParleyApi {
    return new ParleyApi({ url: this.url, credential: this.#credential, actAs: userId });
  }

  /** Any call; resolves with the JSON body (or `null` for 204), throws {@link ParleyApiError} otherwise. */
  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    return (await this.#call(method, path, body)).body as T;
  }

  /** `POST /v1/conversations`: creates, or returns the conversation that already has this `ref` (or direct pair). */
  async createConversation(input: ConversationCreatePayload): Promise<ConversationWithMembers> {
    const { status, body } = await this.#call("POST", "/v1/conversations", input);
    const { conversation, members } = body as { conversation: Conversation; members: Member[] };
    return { conversation, members, created: status === 201 };
  }

  async #call(method: string, path: string, body: unknown): Promise<{ status: number; body: unknown }> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.#credential}` };
    if (this.#actAs !== undefined) headers["parley-user"] = this.#actAs;
    let payload: string | FormData | undefined;
    if (body instanceof FormData) payload = body;
    else if (body !== undefined) {
      headers["content-type"] = "application/json";
      payload = JSON.stringify(body);
    }
    const response = await fetch(this.url + path, { method, headers, body: payload });
    const text = await response.text();
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = text;
    }
    if (!response.ok) {
      const error = (json as { error?: { code: ErrorCode; message: string; details?: Record<string, unknown> } } | null)?.error;
      throw new ParleyApiError(response.status, error?.code ?? "internal", error?.message ?? response.statusText, error?.details);
    }
    return { status: response.status, body: json };
  }

  /** `GET /v1/conversations/by-ref/:ref`. */
  conversationByRef(ref: string): Promise<{ conversation: Conversation; members: Member[] }> {
    return this.request("GET", `/v1/conversations/by-ref/${encodeURIComponent(ref)}`);
  }

  /** `POST /v1/conversations/:id/members`: adds someone (a member already there is returned as is). */
  async addMember(conversationId: string, userId: string, role?: Member["role"]): Promise<Member> {
    const body = role === undefined ? { userId } : { userId, role };
    const { member } = await this.request<{ member: Member }>("POST", `/v1/conversations/${conversationId}/members`, body);
    return member;
  }

  /** `GET /v1/conversations`: the inbox of the caller (with `asUser`: of that user). */
  listConversations(query: { kind?: Conversation["kind"]; status?: Conversation["status"]; limit?: number } = {}): Promise<ConversationPage> {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
    const qs = params.size > 0 ? `?${params}` : "";
    return this.request("GET", `/v1/conversations${qs}`);
  }

  /** `GET /v1/conversations/:id/messages`: the newest page, or the page before `beforeSeq`. */
  messages(conversationId: string, query: { beforeSeq?: number; limit?: number } = {}): Promise<MessagePage> {
    const params = new URLSearchParams();
    if (query.beforeSeq !== undefined) params.set("beforeSeq", String(query.beforeSeq));
    if (query.limit !== undefined) params.set("limit", String(query.limit));
    const qs = params.size > 0 ? `?${params}` : "";
    return this.request("GET", `/v1/conversations/${conversationId}/messages${qs}`);
  }

  /** Every message of a conversation, oldest first, walking history pages back from the newest. */
  async allMessages(conversationId: string, pageSize = 100): Promise<Message[]> {
    const pages: Message[][] = [];
    let beforeSeq: number | undefined;
    for (;;) {
      const page = await this.messages(conversationId, beforeSeq === undefined ? { limit: pageSize } : { beforeSeq, limit: pageSize });
      pages.unshift(page.messages);
      const oldest = page.messages[0];
      if (!page.hasMore || !oldest) return pages.flat();
      beforeSeq = oldest.seq;
    }
  }

  /** `POST /v1/conversations/:id/messages`: delivered live to the members like any other message. */
  async sendMessage(conversationId: string, body: MessageSendBody): Promise<Message> {
    const { message } = await this.request<{ message: Message }>("POST", `/v1/conversations/${conversationId}/messages`, body);
    return message;
  }

  /** `POST /v1/uploads`: one file; send `{ id }` of the answer in a message's `attachments`. */
  async upload(file: Blob, filename: string): Promise<Attachment> {
    const form = new FormData();
    form.append("file", file, filename);
    const { attachment } = await this.request<{ attachment: Attachment }>("POST", "/v1/uploads", form);
    return attachment;
  }

  /** `GET /v1/stats` (admin): totals and messages per day. */
  stats(): Promise<Stats> {
    return this.request("GET", "/v1/stats");
  }
}
