import type { FastifyInstance, FastifyRequest, RawServerDefault } from "fastify";
import type { FastifyBaseLogger } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Authenticator } from "../auth/authenticator.js";
import type { TokenSigner } from "../auth/token-signer.js";
import type { Config } from "../config/config.js";
import type { ParleyDomain } from "../domain/parley-domain.js";
import type { Principal } from "../domain/principal.js";
import type { Metrics } from "../metrics/metrics.js";
import type { RateLimiter } from "../rate-limit/rate-limiter.js";
import type { Storage } from "../storage/database.js";

/** Fastify with zod schemas for validation, serialization and OpenAPI. */
export type ParleyFastify = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  ZodTypeProvider
>;

/** What route modules need from the node. */
export interface HttpContext {
  config: Config;
  storage: Storage;
  domain: ParleyDomain;
  authenticator: Authenticator;
  signer: TokenSigner;
  limiter: RateLimiter;
  metrics: Metrics;
  version: string;
  /** Extra dependencies `/ready` checks besides the database, by name. */
  readiness: Record<string, () => Promise<void>>;
}

/** The authenticated caller of a `/v1` request. */
export function principalOf(request: FastifyRequest): Principal {
  const principal = (request as FastifyRequest & { principal?: Principal }).principal;
  if (!principal) throw new Error("route is missing authentication");
  return principal;
}

/** The caller of a route whose authentication is optional, or `null`. */
export function optionalPrincipalOf(request: FastifyRequest): Principal | null {
  return (request as FastifyRequest & { principal?: Principal }).principal ?? null;
}
