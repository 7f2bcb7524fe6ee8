import { inject } from "vitest";
import { createParleyClient, type ParleyClient, type ParleyClientOptions } from "@parley/client";
import type { Message } from "@parley/protocol";
import { FAST } from "../../../client/test/support/client-options.js";
import { startTcpProxy, type TcpProxy } from "../../../client/test/support/tcp-proxy.js";

declare module "vitest" {
  export interface ProvidedContext {
    parleyUrl: string;
    parleyPort: number;
    parleyApiKey: string;
  }
}

/** The Parley node the global setup started. */
export const server = {
  get url(): string {
    return inject("parleyUrl");
  },
  get port(): number {
    return inject("parleyPort");
  },
};

/** Calls the REST API as the host back end (the API key), optionally acting as a user. */
export async function api<T = unknown>(method: string, path: string, body?: unknown, actAs?: string): Promise<T> {
  const headers: Record<string, string> = { authorization: `Bearer ${inject("parleyApiKey")}` };
  if (actAs) headers["parley-user"] = actAs;
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(server.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : null) as T;
}

/** A user token minted by the server, as a host back end would get one. */
export async function tokenFor(sub: string, name = sub[0]!.toUpperCase() + sub.slice(1)): Promise<string> {
  return (await api<{ token: string }>("POST", "/v1/tokens", { sub, name })).token;
}

export async function directConversation(a: string, b: string): Promise<string> {
  return (await api<{ conversation: { id: string } }>("POST", "/v1/conversations", { kind: "direct", members: [b] }, a)).conversation.id;
}

export async function restSend(conversationId: string, user: string, text: string): Promise<Message> {
  return (await api<{ message: Message }>("POST", `/v1/conversations/${conversationId}/messages`, { text }, user)).message;
}

export async function setStatus(conversationId: string, status: "open" | "closed"): Promise<void> {
  await api("PATCH", `/v1/conversations/${conversationId}`, { status });
}

/** Clients and proxies a test made, closed after it. */
export class Clients {
  readonly #clients: ParleyClient[] = [];
  readonly #proxies: TcpProxy[] = [];

  client(sub: string, options: Partial<ParleyClientOptions> = {}): ParleyClient {
    const client = createParleyClient({ url: server.url, getToken: () => tokenFor(sub), ...FAST, ...options });
    this.#clients.push(client);
    return client;
  }

  /** A client with a fixed token (e.g. one the server refuses). */
  withToken(token: string): ParleyClient {
    const client = createParleyClient({ url: server.url, token, ...FAST });
    this.#clients.push(client);
    return client;
  }

  async proxy(): Promise<TcpProxy> {
    const proxy = await startTcpProxy(server.port);
    this.#proxies.push(proxy);
    return proxy;
  }

  async close(): Promise<void> {
    for (const client of this.#clients.splice(0)) client.close();
    for (const proxy of this.#proxies.splice(0)) await proxy.close();
  }
}
