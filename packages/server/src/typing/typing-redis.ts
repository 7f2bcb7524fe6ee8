import { TYPING_TIMEOUT_MS } from "@parley/protocol";
import type { Redis } from "ioredis";
import type { TypingEmit, TypingTracker } from "./typing-tracker.js";

const SWEEP_MS = 500;

/**
 * Typing indicators shared by every node: a sorted set of typists scored by
 * when they expire. Any node sweeps it, and `ZREM` decides which one
 * announces the expiry, so an indicator ends even when its typist's node died.
 */
export class RedisTypingTracker implements TypingTracker {
  readonly #redis: Redis;
  readonly #key: string;
  readonly #names: string;
  readonly #emit: TypingEmit;
  readonly #timeoutMs: number;
  readonly #timer: NodeJS.Timeout;

  constructor(redis: Redis, prefix: string, emit: TypingEmit, timeoutMs: number = TYPING_TIMEOUT_MS) {
    this.#redis = redis;
    this.#key = `${prefix}typing`;
    this.#names = `${prefix}typing:names`;
    this.#emit = emit;
    this.#timeoutMs = timeoutMs;
    this.#timer = setInterval(() => void this.#sweep(), SWEEP_MS);
    this.#timer.unref();
  }

  set(conversationId: string, userId: string, name: string, typing: boolean): void {
    if (!typing) {
      this.clear(conversationId, userId);
      return;
    }
    const member = `${conversationId}\n${userId}`;
    void this.#redis
      .multi()
      .zadd(this.#key, Date.now() + this.#timeoutMs, member)
      .hset(this.#names, member, name)
      .exec()
      .then((result) => {
        if (Number(result?.[0]?.[1]) === 1) this.#emit(conversationId, userId, name, true);
      })
      .catch(() => {});
  }

  clear(conversationId: string, userId: string): void {
    void this.#end(`${conversationId}\n${userId}`);
  }

  clearUser(userId: string): void {
    void this.#redis
      .zrange(this.#key, 0, -1)
      .then((members) => Promise.all(members.filter((m) => m.endsWith(`\n${userId}`)).map((m) => this.#end(m))))
      .catch(() => {});
  }

  async #end(member: string): Promise<void> {
    try {
      const name = await this.#redis.hget(this.#names, member);
      const removed = await this.#redis.zrem(this.#key, member);
      if (removed !== 1) return;
      await this.#redis.hdel(this.#names, member);
      const [conversationId, userId] = member.split("\n") as [string, string];
      this.#emit(conversationId, userId, name ?? userId, false);
    } catch {
      // Redis is away; the sweep ends it later.
    }
  }

  async #sweep(): Promise<void> {
    try {
      const due = await this.#redis.zrangebyscore(this.#key, 0, Date.now());
      await Promise.all(due.map((m) => this.#end(m)));
    } catch {
      // Redis is away; try again next time.
    }
  }

  close(): void {
    clearInterval(this.#timer);
  }
}
