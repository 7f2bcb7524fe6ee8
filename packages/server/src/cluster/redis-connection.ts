import { Redis } from "ioredis";

/**
 * The connection the Socket.IO adapter publishes on. While Redis is away its
 * commands wait in the offline queue and go out when it returns, so events
 * emitted during the outage arrive late rather than never.
 */
export function connectAdapterRedis(url: string): Redis {
  const redis = new Redis(url, {
    maxRetriesPerRequest: null,
    enableOfflineQueue: true,
    retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
  });
  redis.on("error", () => {});
  settleUnawaited(redis, "publish");
  // The adapter subscribes on a copy of this connection and never awaits the
  // subscription: closed before Redis answered it (a node stopping just after
  // it started, or while Redis was away), the copy's pending SUBSCRIBE was
  // rejected with nobody listening, an unhandled rejection.
  const duplicate = redis.duplicate.bind(redis);
  redis.duplicate = (override) => {
    const copy = duplicate(override);
    settleUnawaited(copy, "subscribe");
    return copy;
  };
  return redis;
}

/**
 * Marks the promises `method` returns as handled, so that a library calling
 * it without awaiting the result (the adapter, for its PUBLISH and SUBSCRIBE)
 * cannot leave a rejection unhandled when the connection closes. Callers that
 * do await get the same promise as before.
 */
function settleUnawaited(redis: Redis, method: "publish" | "subscribe"): void {
  const original = redis[method].bind(redis) as (...args: unknown[]) => Promise<unknown>;
  (redis as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
    const result = original(...args);
    result.catch(() => {});
    return result;
  };
}

/**
 * The connection for presence, rate limits and typing. Its commands give up
 * quickly while Redis is away; those features fail open rather than stall sends.
 */
export function connectStateRedis(url: string): Redis {
  const redis = new Redis(url, {
    maxRetriesPerRequest: 1,
    commandTimeout: 1000,
    enableOfflineQueue: true,
    retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
  });
  redis.on("error", () => {});
  return redis;
}
