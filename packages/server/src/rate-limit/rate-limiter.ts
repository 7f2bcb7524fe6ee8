import type { Rate } from "../config/config.js";

/** The outcome of taking one token. */
export interface RateDecision {
  allowed: boolean;
  /** When not allowed: how long until a token is available. */
  retryAfterMs: number;
}

/** Token buckets keyed by string (e.g. `msg:<userId>`). */
export interface RateLimiter {
  take(key: string, rate: Rate): Promise<RateDecision>;
  close(): Promise<void>;
}
