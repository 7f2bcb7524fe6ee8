import { Redis } from "ioredis";

/**
 * Opens the node's Redis connection. Commands wait (and are retried) while
 * Redis reconnects instead of failing at once, up to a bound.
 */
export function connectRedis(url: string): Redis {
  const redis = new Redis(url, {
    maxRetriesPerRequest: 3,
    enableOfflineQueue: true,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
    lazyConnect: false,
  });
  // Errors surface on the commands that fail; the connection event only logs noise.
  redis.on("error", () => {});
  return redis;
}
