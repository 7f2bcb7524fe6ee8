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
  return redis;
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
