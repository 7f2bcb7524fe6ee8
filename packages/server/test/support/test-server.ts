import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { SignJWT } from "jose";
import { io as connectSocket, type Socket } from "socket.io-client";
import type { Ack, ClientToServerEvents, ServerToClientEvents, SessionInfo } from "@parley/protocol";
import { loadConfig, type Config } from "../../src/config/config.js";
import { createParleyServer, type ParleyServer } from "../../src/parley-server.js";

export const JWT_SECRET = "test-secret-that-is-long-enough-0123456789";
export const API_KEY = "pk_test_0123456789abcdefghijklmnop";

export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface TokenOptions {
  name?: string;
  roles?: string[];
  /** Seconds from now; `null` for no exp. @default 3600 */
  expiresIn?: number | null;
  iss?: string;
  secret?: string;
}

/** Signs an HS256 token the way a host back end would. */
export async function signToken(sub: string, options: TokenOptions = {}): Promise<string> {
  const jwt = new SignJWT({ name: options.name ?? sub, roles: options.roles ?? [] })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(sub)
    .setIssuedAt();
  if (options.iss) jwt.setIssuer(options.iss);
  const expiresIn = options.expiresIn === undefined ? 3600 : options.expiresIn;
  if (expiresIn !== null) jwt.setExpirationTime(Math.floor(Date.now() / 1000) + expiresIn);
  return jwt.sign(new TextEncoder().encode(options.secret ?? JWT_SECRET));
}

/** A Parley node on port 0 with helpers to act as its users. */
export interface TestServer {
  /** The first node (all nodes share the database). */
  readonly server: ParleyServer;
  readonly servers: readonly ParleyServer[];
  /** The first node's URL. */
  readonly url: string;
  readonly urls: readonly string[];
  readonly config: Config;
  /** A connected socket for `sub` (resolves after the `session` event). */
  connect(sub: string, options?: TokenOptions): Promise<ConnectedClient>;
  /** `fetch` against the server with a bearer credential (a token or the API key). */
  request(method: string, path: string, options?: { auth?: string; actAs?: string; body?: unknown }): Promise<HttpResult>;
  close(): Promise<void>;
}

export interface HttpResult {
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

export interface ConnectedClient {
  readonly socket: ClientSocket;
  readonly session: SessionInfo;
  readonly token: string;
  /** Emits with an ack and resolves with the ack (times out after 5 s). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  call<T = any>(event: string, payload: unknown): Promise<Ack<T>>;
  /** Every payload received for `event` since connecting. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  received(event: keyof ServerToClientEvents): any[];
  /** Resolves with the first (past or future) payload of `event` matching `where`. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  waitFor(event: keyof ServerToClientEvents, where?: (payload: any) => boolean, timeoutMs?: number): Promise<any>;
  close(): void;
}

type Overrides = Partial<Record<keyof Config, unknown>>;

function testConfig(databaseUrl: string, overrides: Overrides): Config {
  return loadConfig({
    env: {},
    cwd: process.cwd(),
    overrides: {
      port: 0,
      host: "127.0.0.1",
      databaseUrl,
      jwtSecret: JWT_SECRET,
      apiKey: API_KEY,
      corsOrigins: ["*"],
      uploadsDir: mkdtempSync(path.join(tmpdir(), "parley-uploads-")),
      ...overrides,
    },
  });
}

/** One Parley node on port 0. */
export async function startTestServer(databaseUrl: string, overrides: Overrides = {}): Promise<TestServer> {
  const config = testConfig(databaseUrl, overrides);
  const server = await createParleyServer(config);
  const url = await server.listen();
  return harness([server], [url], config, async () => {});
}

/**
 * `nodes` Parley nodes on one PostgreSQL database and one Redis (under a key
 * prefix of their own), as a deployment behind a load balancer would run.
 * Clients and requests are spread over the nodes in turn.
 */
export async function startTestCluster(databaseUrl: string, redisUrl: string, nodes: number, overrides: Overrides = {}): Promise<TestServer> {
  const prefix = `parley-test-${randomBytes(5).toString("hex")}:`;
  const config = testConfig(databaseUrl, { redisUrl, redisPrefix: prefix, ...overrides });
  const servers: ParleyServer[] = [];
  const urls: string[] = [];
  for (let i = 0; i < nodes; i++) {
    const server = await createParleyServer(config);
    servers.push(server);
    urls.push(await server.listen());
  }
  return harness(servers, urls, config, async () => {
    const redis = new Redis(redisUrl);
    try {
      let cursor = "0";
      do {
        const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500);
        cursor = next;
        if (keys.length > 0) await redis.del(...keys);
      } while (cursor !== "0");
    } finally {
      redis.disconnect();
    }
  });
}

function harness(servers: ParleyServer[], urls: string[], config: Config, cleanup: () => Promise<void>): TestServer {
  const clients: ConnectedClient[] = [];
  let turn = 0;
  const next = () => urls[turn++ % urls.length]!;

  async function connect(sub: string, options: TokenOptions = {}): Promise<ConnectedClient> {
    const token = await signToken(sub, options);
    return connectWithToken(next(), token, clients);
  }

  return {
    server: servers[0]!,
    servers,
    url: urls[0]!,
    urls,
    config,
    connect,
    async request(method, path, options = {}) {
      const url = next();
      const headers: Record<string, string> = {};
      if (options.auth) headers.authorization = `Bearer ${options.auth}`;
      if (options.actAs) headers["parley-user"] = options.actAs;
      if (options.body !== undefined) headers["content-type"] = "application/json";
      const res = await fetch(url + path, {
        method,
        headers,
        body: options.body === undefined ? undefined : typeof options.body === "string" ? options.body : JSON.stringify(options.body),
      });
      const text = await res.text();
      let body: unknown = text;
      try {
        body = text ? JSON.parse(text) : null;
      } catch {
        // not JSON
      }
      return { status: res.status, headers: res.headers, body };
    },
    async close() {
      for (const c of clients) c.close();
      await Promise.all(servers.map((s) => s.close()));
      await cleanup();
    },
  };
}

/** Connects a real socket.io-client with `token`; rejects with the `connect_error`. */
export function connectWithToken(url: string, token: string | undefined, registry: ConnectedClient[] = []): Promise<ConnectedClient> {
  const socket: ClientSocket = connectSocket(url, {
    auth: token === undefined ? {} : { token },
    transports: ["websocket"],
    reconnection: false,
    forceNew: true,
  });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const log = new Map<string, any[]>();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const waiters: Array<{ event: string; where: (p: any) => boolean; resolve: (p: any) => void }> = [];
  socket.onAny((event: string, payload: unknown) => {
    const list = log.get(event) ?? [];
    list.push(payload);
    log.set(event, list);
    for (const w of [...waiters]) {
      if (w.event === event && w.where(payload)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(payload);
      }
    }
  });
  return new Promise((resolve, reject) => {
    socket.once("connect_error", (err) => {
      socket.close();
      reject(err);
    });
    socket.once("session", (session) => {
      const client: ConnectedClient = {
        socket,
        session,
        token: token ?? "",
        call(event, payload) {
          return (socket.timeout(5000) as unknown as { emitWithAck(e: string, p: unknown): Promise<never> }).emitWithAck(event, payload);
        },
        received: (event) => log.get(event) ?? [],
        waitFor(event, where = () => true, timeoutMs = 3000) {
          const past = (log.get(event) ?? []).find(where);
          if (past !== undefined) return Promise.resolve(past);
          return new Promise((res, rej) => {
            const timer = setTimeout(() => rej(new Error(`timed out waiting for ${event}`)), timeoutMs);
            waiters.push({
              event,
              where,
              resolve: (p) => {
                clearTimeout(timer);
                res(p);
              },
            });
          });
        },
        close: () => socket.close(),
      };
      registry.push(client);
      resolve(client);
    });
  });
}

/** Waits long enough for any event already in flight to arrive (for "nothing arrives" checks). */
export const settle = (ms = 150) => new Promise((r) => setTimeout(r, ms));

/** Unwraps an ok ack, failing loudly with the error otherwise. */
export function ok<T>(ack: Ack<T>): T {
  if (!ack.ok) throw new Error(`expected ok, got ${ack.error.code}: ${ack.error.message}`);
  return ack.data;
}
