import type { Redis } from "ioredis";
import type { Rate } from "../config/config.js";
import type { RateDecision, RateLimiter } from "./rate-limiter.js";

/** A token bucket updated atomically in Redis, on Redis's clock. */
const TAKE = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local b = redis.call('HMGET', KEYS[1], 't', 'u')
local tokens = tonumber(b[1]) or burst
local updated = tonumber(b[2]) or now
tokens = math.min(burst, tokens + (now - updated) / 1000 * rate)
local allowed = 0
local retry = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  retry = math.ceil((1 - tokens) / rate * 1000)
end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'u', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return {allowed, retry}
`;

/**
 * Rate limits shared by every node. If Redis cannot answer, the request is
 * let through (and the failure is the caller's to log): a chat that stops
 * accepting messages because a limiter is down is worse than a brief burst.
 */
export class RedisRateLimiter implements RateLimiter {
  readonly #redis: Redis;
  readonly #prefix: string;

  constructor(redis: Redis, prefix: string) {
    this.#redis = redis;
    this.#prefix = prefix;
  }

  async take(key: string, rate: Rate): Promise<RateDecision> {
    try {
      const [allowed, retry] = (await this.#redis.eval(TAKE, 1, `${this.#prefix}rate:${key}`, rate.perSecond, rate.burst)) as [
        number,
        number,
      ];
      return { allowed: allowed === 1, retryAfterMs: retry };
    } catch {
      return { allowed: true, retryAfterMs: 0 };
    }
  }

  async close(): Promise<void> {}
}
