/** The host back end's side of Parley: REST calls with the server API key. */
export class ParleyAdmin {
  readonly #url: string;
  readonly #apiKey: string;

  constructor(url: string, apiKey: string) {
    this.#url = url;
    this.#apiKey = apiKey;
  }

  async request<T>(method: string, path: string, body?: unknown, actAs?: string): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.#apiKey}` };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (actAs !== undefined) headers["parley-user"] = actAs;
    const res = await fetch(this.#url + path, {
      method,
      headers,
      body: body === undefined ? null : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
    return JSON.parse(text) as T;
  }

  /** Creates a group conversation of `members`; resolves to its id. */
  async createGroup(members: string[], title: string): Promise<string> {
    const body = await this.request<{ conversation: { id: string } }>("POST", "/v1/conversations", {
      kind: "group",
      title,
      members: members.map((userId) => ({ userId, role: "member" })),
    });
    return body.conversation.id;
  }

  /** Creates a channel; resolves to its id. */
  async createChannel(title: string): Promise<string> {
    const body = await this.request<{ conversation: { id: string } }>("POST", "/v1/conversations", { kind: "channel", title });
    return body.conversation.id;
  }

  /** Sends a message as `senderId` (a member); resolves to the stored message's id. */
  async send(conversationId: string, senderId: string, text: string, clientId: string): Promise<string> {
    const body = await this.request<{ message: { id: string } }>(
      "POST",
      `/v1/conversations/${conversationId}/messages`,
      { text, clientId },
      senderId,
    );
    return body.message.id;
  }
}

/** Runs `work` over `items` with at most `concurrency` in flight; results keep their order. */
export async function mapLimit<T, R>(items: readonly T[], concurrency: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, lane));
  return results;
}
