import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createParleyClient, type ParleyClient, type ParleyClientOptions } from "@parley/client";
import type { Message } from "@parley/protocol";
import { API_KEY, signToken, startTestServer, type TestServer, type TokenOptions } from "../../../server/test/support/test-server.js";
import { startTcpProxy, type TcpProxy } from "./tcp-proxy.js";

import { FAST } from "./client-options.js";

export { FAST } from "./client-options.js";
export { eventually, shown, sleep, statusIs, watchInvariants } from "./wait.js";

export { API_KEY, signToken, type TestServer };

/** A Parley node on SQLite in a temp dir, that can be stopped and started again on the same port. */
export interface Node {
  /** The running server (a new one after `restart()`). */
  readonly t: TestServer;
  readonly port: number;
  readonly url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startNode(overrides: Parameters<typeof startTestServer>[1] = {}): Promise<Node> {
  const dir = mkdtempSync(path.join(tmpdir(), "parley-client-test-"));
  const databaseUrl = `sqlite:${path.join(dir, "parley.db")}`;
  let t: TestServer | null = await startTestServer(databaseUrl, overrides);
  const port = Number(new URL(t.url).port);
  return {
    get t() {
      if (!t) throw new Error("the server is stopped");
      return t;
    },
    port,
    url: `http://localhost:${port}`,
    async stop() {
      const running = t;
      t = null;
      await running?.close();
    },
    async start() {
      if (!t) t = await startTestServer(databaseUrl, { ...overrides, port });
    },
    async close() {
      await t?.close();
      t = null;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Tracks clients and proxies so a test can close them all. */
export class Fleet {
  readonly #clients: ParleyClient[] = [];
  readonly #proxies: TcpProxy[] = [];
  tokenCalls = new Map<string, number>();

  /** A client for `sub` at `url`, getting fresh tokens from a `getToken` that signs them. */
  client(url: string, sub: string, options: Partial<ParleyClientOptions> & { tokenOptions?: TokenOptions } = {}): ParleyClient {
    const { tokenOptions, ...rest } = options;
    const client = createParleyClient({
      url,
      getToken: () => {
        this.tokenCalls.set(sub, (this.tokenCalls.get(sub) ?? 0) + 1);
        return signToken(sub, { name: sub[0]!.toUpperCase() + sub.slice(1), ...tokenOptions });
      },
      ...FAST,
      ...rest,
    });
    this.#clients.push(client);
    return client;
  }

  track(client: ParleyClient): ParleyClient {
    this.#clients.push(client);
    return client;
  }

  async proxy(targetPort: number): Promise<TcpProxy> {
    const proxy = await startTcpProxy(targetPort);
    this.#proxies.push(proxy);
    return proxy;
  }

  async close(): Promise<void> {
    for (const client of this.#clients.splice(0)) client.close();
    for (const proxy of this.#proxies.splice(0)) await proxy.close();
  }
}

/** The conversation's messages as the server stores them (every page), read as `user` through REST. */
export async function serverHistory(t: TestServer, conversationId: string, user: string): Promise<Message[]> {
  const all: Message[] = [];
  let beforeSeq: number | undefined;
  for (;;) {
    const q = beforeSeq === undefined ? "limit=200" : `limit=200&beforeSeq=${beforeSeq}`;
    const res = await t.request("GET", `/v1/conversations/${conversationId}/messages?${q}`, { auth: API_KEY, actAs: user });
    if (res.status !== 200) throw new Error(`history: ${res.status} ${JSON.stringify(res.body)}`);
    const page = res.body as { messages: Message[]; hasMore: boolean };
    all.unshift(...page.messages);
    if (!page.hasMore || page.messages.length === 0) return all;
    beforeSeq = page.messages[0]!.seq;
  }
}

/** Creates a direct conversation between two users through REST (as the first). */
export async function directConversation(t: TestServer, a: string, b: string): Promise<string> {
  const res = await t.request("POST", "/v1/conversations", { auth: API_KEY, actAs: a, body: { kind: "direct", members: [b] } });
  if (res.status !== 201 && res.status !== 200) throw new Error(`create: ${res.status} ${JSON.stringify(res.body)}`);
  return (res.body as { conversation: { id: string } }).conversation.id;
}

/** Sends a message as `user` through REST (the host back end acting as them). */
export async function restSend(t: TestServer, conversationId: string, user: string, text: string): Promise<Message> {
  const res = await t.request("POST", `/v1/conversations/${conversationId}/messages`, {
    auth: API_KEY,
    actAs: user,
    body: { text, clientId: `rest-${user}-${text}` },
  });
  if (res.status !== 201 && res.status !== 200) throw new Error(`send: ${res.status} ${JSON.stringify(res.body)}`);
  return (res.body as { message: Message }).message;
}
