import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { createAdapter } from "@socket.io/redis-streams-adapter";
import type { AddressInfo } from "node:net";
import { Authenticator } from "./auth/authenticator.js";
import { TokenSigner } from "./auth/token-signer.js";
import type { Config } from "./config/config.js";
import { createDomain, type ParleyDomain } from "./domain/parley-domain.js";
import { createHttpApp } from "./http/http-app.js";
import type { ParleyFastify } from "./http/http-context.js";
import { createGateway, type Gateway } from "./realtime/gateway.js";
import { Metrics } from "./metrics/metrics.js";
import { connectAdapterRedis, connectStateRedis } from "./cluster/redis-connection.js";
import { MemoryPresence } from "./presence/presence-memory.js";
import { RedisPresence } from "./presence/presence-redis.js";
import type { PresenceStore } from "./presence/presence-store.js";
import { RedisRateLimiter } from "./rate-limit/rate-limiter-redis.js";
import type { RateLimiter } from "./rate-limit/rate-limiter.js";
import { MemoryTypingTracker } from "./typing/typing-memory.js";
import { RedisTypingTracker } from "./typing/typing-redis.js";
import type { TypingEmit, TypingTracker } from "./typing/typing-tracker.js";
import { MemoryRateLimiter } from "./rate-limit/rate-limiter-memory.js";
import { openStorage, type Storage } from "./storage/database.js";
import { WebhookDispatcher } from "./webhooks/webhook-dispatcher.js";
import { WebhookOutbox } from "./webhooks/webhook-outbox.js";
import { migrateToLatest } from "./storage/migrate.js";
import { startPostgresUpkeep } from "./storage/postgres-upkeep.js";
import { startTextIndexer } from "./storage/sqlite-text-index.js";

/** The version in this package's package.json. */
export const VERSION: string = (
  JSON.parse(readFileSync(path.join(import.meta.dirname, "../package.json"), "utf8")) as { version: string }
).version;

/** A running Parley node. */
export interface ParleyServer {
  readonly config: Config;
  readonly storage: Storage;
  readonly domain: ParleyDomain;
  readonly http: ParleyFastify;
  readonly gateway: Gateway;
  readonly signer: TokenSigner;
  readonly webhooks: WebhookDispatcher;
  /** Starts listening on `config.port` (0 picks a free port); resolves to the base URL. */
  listen(): Promise<string>;
  /** Stops accepting connections, closes sockets and the database. */
  close(): Promise<void>;
}

export interface CreateServerOptions {
  /** `false` for no logs, `true` or `{ level }` for pino JSON lines on stdout. @default false */
  logger?: boolean | { level: string };
}

/** Opens the database, runs migrations and wires HTTP and Socket.IO onto one server. */
export async function createParleyServer(config: Config, options: CreateServerOptions = {}): Promise<ParleyServer> {
  const storage = openStorage(config.databaseUrl);
  try {
    await migrateToLatest(storage);
  } catch (err) {
    await storage.destroy();
    throw err;
  }
  const metrics = new Metrics();
  const nodeId = randomUUID();
  const redis = config.redisUrl ? connectStateRedis(config.redisUrl) : null;
  const adapterRedis = config.redisUrl ? connectAdapterRedis(config.redisUrl) : null;
  const prefix = config.redisPrefix;
  const presence: PresenceStore = redis ? new RedisPresence(redis, prefix, nodeId) : new MemoryPresence();
  const limiter: RateLimiter = redis ? new RedisRateLimiter(redis, prefix) : new MemoryRateLimiter();
  const createTyping = (emit: TypingEmit): TypingTracker =>
    redis ? new RedisTypingTracker(redis, prefix, emit) : new MemoryTypingTracker(emit);
  const adapter = adapterRedis
    ? createAdapter(adapterRedis, { streamName: `${prefix}socket.io`, channelPrefix: `${prefix}socket.io` })
    : undefined;
  const domain = createDomain(storage, config, { presence, limiter, recorder: new WebhookOutbox(config, presence) });
  const authenticator = new Authenticator(config, domain.users);
  const signer = new TokenSigner(config.jwtSecret);
  const http = await createHttpApp(
    {
      config,
      storage,
      domain,
      authenticator,
      signer,
      limiter,
      metrics,
      version: VERSION,
      readiness: redis ? { redis: async () => void (await redis.ping()) } : {},
    },
    { logger: options.logger ?? false },
  );
  const gateway = createGateway(http.server, {
    config,
    domain,
    authenticator,
    presence,
    limiter,
    metrics,
    logger: http.log,
    createTyping,
    ...(adapter ? { adapter } : {}),
  });
  const webhooks = new WebhookDispatcher(config, storage, http.log, metrics);
  const upkeep = await startPostgresUpkeep(storage, (err) => http.log.warn({ err }, "upkeep of Parley's tables (vacuum, text index) failed"));
  if (upkeep.vacuuming) {
    http.log.info("autovacuum is off on this PostgreSQL server: Parley vacuums the tables it updates on every message itself");
  }
  const textIndexer = startTextIndexer(storage, (err) => http.log.warn({ err }, "indexing message text for search failed"));
  const stopKicking = domain.events.subscribe((event) => {
    if (event.type === "message.created") metrics.messagesStored.inc();
    webhooks.kick();
  });

  let closed = false;
  return {
    config,
    storage,
    domain,
    http,
    gateway,
    signer,
    webhooks,
    async listen() {
      // A deep accept queue: after a restart or a network blip thousands of clients reconnect at once, and
      // connections the kernel drops from a short queue come back only after the client's backoff.
      await http.listen({ port: config.port, host: config.host, backlog: 4096 });
      webhooks.start();
      const { port } = http.server.address() as AddressInfo;
      return `http://localhost:${port}`;
    },
    async close() {
      if (closed) return;
      closed = true;
      stopKicking();
      await webhooks.stop();
      await gateway.close();
      await http.close();
      await presence.close();
      await limiter.close();
      await upkeep.stop();
      await textIndexer.stop();
      for (const client of [redis, adapterRedis]) await client?.quit().catch(() => client.disconnect());
      await storage.destroy();
    },
  };
}
