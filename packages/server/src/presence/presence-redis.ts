import type { Redis } from "ioredis";
import type { PresenceStore } from "./presence-store.js";

/** How often a node says it is alive, and how long that lasts. */
const HEARTBEAT_MS = 2000;
const NODE_TTL_MS = 6000;

/**
 * Presence across nodes in Redis. Each user has a hash of their sockets
 * (`<node>/<socket>`); each node refreshes a heartbeat key. When a node's
 * heartbeat lapses (it crashed), the first live node to notice removes that
 * node's sockets and reports the users left without any as offline.
 */
export class RedisPresence implements PresenceStore {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #nodeId: string;
  readonly #timer: NodeJS.Timeout;
  readonly #listeners: Array<(userId: string) => void> = [];
  /** Nodes whose heartbeat had lapsed at the last look; any other node counts as alive (a new one may not have been seen yet). */
  #dead = new Set<string>();
  /** This node's sockets, to register again if Redis comes back empty. */
  readonly #local = new Map<string, Set<string>>();

  constructor(redis: Redis, prefix: string, nodeId: string) {
    this.#redis = redis;
    this.#prefix = prefix;
    this.#nodeId = nodeId;
    void this.#tick();
    this.#timer = setInterval(() => void this.#tick(), HEARTBEAT_MS);
    this.#timer.unref();
    // After a reconnect (Redis may have restarted without its data), say again who is here.
    redis.on("ready", () => void this.#reregister());
  }

  async #reregister(): Promise<void> {
    if (this.#local.size === 0) return;
    try {
      const multi = this.#redis.multi();
      for (const [userId, sockets] of this.#local) {
        for (const socketId of sockets) multi.hset(this.#userKey(userId), `${this.#nodeId}/${socketId}`, "1");
        multi.sadd(this.#nodeUsersKey(this.#nodeId), userId);
      }
      await multi.exec();
    } catch {
      // The next reconnect tries again.
    }
  }

  #userKey(userId: string): string {
    return `${this.#prefix}presence:${userId}`;
  }

  #nodeKey(nodeId: string): string {
    return `${this.#prefix}node:${nodeId}`;
  }

  #nodeUsersKey(nodeId: string): string {
    return `${this.#prefix}node:${nodeId}:users`;
  }

  async connect(userId: string, socketId: string): Promise<boolean> {
    const local = this.#local.get(userId) ?? new Set<string>();
    local.add(socketId);
    this.#local.set(userId, local);
    const result = await this.#redis
      .multi()
      .hset(this.#userKey(userId), `${this.#nodeId}/${socketId}`, "1")
      .sadd(this.#nodeUsersKey(this.#nodeId), userId)
      .hkeys(this.#userKey(userId))
      .exec();
    const fields = (result?.[2]?.[1] as string[] | undefined) ?? [];
    return fields.filter((f) => this.#isAlive(f)).length === 1;
  }

  async disconnect(userId: string, socketId: string): Promise<boolean> {
    const local = this.#local.get(userId);
    local?.delete(socketId);
    if (local?.size === 0) this.#local.delete(userId);
    const result = await this.#redis
      .multi()
      .hdel(this.#userKey(userId), `${this.#nodeId}/${socketId}`)
      .hkeys(this.#userKey(userId))
      .exec();
    const removed = Number(result?.[0]?.[1] ?? 0);
    const fields = (result?.[1]?.[1] as string[] | undefined) ?? [];
    return removed === 1 && !fields.some((f) => this.#isAlive(f));
  }

  async online(userIds: readonly string[]): Promise<Set<string>> {
    if (userIds.length === 0) return new Set();
    const pipeline = this.#redis.pipeline();
    for (const id of userIds) pipeline.hkeys(this.#userKey(id));
    const results = (await pipeline.exec()) ?? [];
    const online = new Set<string>();
    results.forEach(([err, fields], i) => {
      // A failed lookup counts as offline: the caller then errs on the side of notifying.
      if (err || !Array.isArray(fields)) return;
      if ((fields as string[]).some((f) => this.#isAlive(f))) online.add(userIds[i]!);
    });
    return online;
  }

  onLapsed(listener: (userId: string) => void): void {
    this.#listeners.push(listener);
  }

  #isAlive(field: string): boolean {
    return !this.#dead.has(field.slice(0, field.indexOf("/")));
  }

  async #tick(): Promise<void> {
    try {
      await this.#redis
        .multi()
        .set(this.#nodeKey(this.#nodeId), "1", "PX", NODE_TTL_MS)
        .sadd(`${this.#prefix}nodes`, this.#nodeId)
        .exec();
      const nodes = await this.#redis.smembers(`${this.#prefix}nodes`);
      const flags = nodes.length ? await this.#redis.mget(nodes.map((n) => this.#nodeKey(n))) : [];
      const dead = nodes.filter((n, i) => !flags[i] && n !== this.#nodeId);
      this.#dead = new Set(dead);
      for (const node of dead) await this.#sweep(node);
    } catch {
      // Redis is away; the next tick tries again.
    }
  }

  /** Removes a dead node's sockets; users left with none are reported offline (once, by the node holding the lock). */
  async #sweep(node: string): Promise<void> {
    const locked = await this.#redis.set(`${this.#prefix}sweep:${node}`, this.#nodeId, "PX", 30_000, "NX");
    if (locked !== "OK") return;
    const users = await this.#redis.smembers(this.#nodeUsersKey(node));
    for (const userId of users) {
      const fields = await this.#redis.hkeys(this.#userKey(userId));
      const stale = fields.filter((f) => f.startsWith(`${node}/`));
      if (stale.length > 0) await this.#redis.hdel(this.#userKey(userId), ...stale);
      const left = fields.filter((f) => !f.startsWith(`${node}/`) && this.#isAlive(f));
      if (stale.length > 0 && left.length === 0) for (const listener of this.#listeners) listener(userId);
    }
    await this.#redis.multi().del(this.#nodeUsersKey(node)).srem(`${this.#prefix}nodes`, node).exec();
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    try {
      await this.#redis.multi().del(this.#nodeKey(this.#nodeId)).srem(`${this.#prefix}nodes`, this.#nodeId).del(this.#nodeUsersKey(this.#nodeId)).exec();
    } catch {
      // Shutting down while Redis is away: the heartbeat lapses on its own.
    }
  }
}
