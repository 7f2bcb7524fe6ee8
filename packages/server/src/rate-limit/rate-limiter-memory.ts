import type { Rate } from "../config/config.js";
import type { RateDecision, RateLimiter } from "./rate-limiter.js";

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/** Token buckets for a single node, in memory; idle buckets are swept. */
export class MemoryRateLimiter implements RateLimiter {
  readonly #buckets = new Map<string, Bucket>();
  readonly #sweep: NodeJS.Timeout;

  constructor(readonly now: () => number = Date.now) {
    this.#sweep = setInterval(() => this.#removeIdle(), 60_000);
    this.#sweep.unref();
  }

  async take(key: string, rate: Rate): Promise<RateDecision> {
    const now = this.now();
    const bucket = this.#buckets.get(key) ?? { tokens: rate.burst, updatedAt: now };
    bucket.tokens = Math.min(rate.burst, bucket.tokens + ((now - bucket.updatedAt) / 1000) * rate.perSecond);
    bucket.updatedAt = now;
    this.#buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true, retryAfterMs: 0 };
    }
    return { allowed: false, retryAfterMs: Math.ceil(((1 - bucket.tokens) / rate.perSecond) * 1000) };
  }

  #removeIdle(): void {
    const cutoff = this.now() - 60_000;
    for (const [key, bucket] of this.#buckets) if (bucket.updatedAt < cutoff) this.#buckets.delete(key);
  }

  async close(): Promise<void> {
    clearInterval(this.#sweep);
    this.#buckets.clear();
  }
}
