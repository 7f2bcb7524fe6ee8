import { timingSafeEqual, webcrypto } from "node:crypto";
import {
  createRemoteJWKSet,
  decodeJwt,
  errors as joseErrors,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
} from "jose";
import { isCleanString } from "@parley/protocol";
import type { Config, TrustedIssuer } from "../config/config.js";
import type { Principal } from "../domain/principal.js";
import { SYSTEM_USER_ID } from "../domain/principal.js";
import type { UserDirectory } from "../domain/users.js";
import { authError } from "./auth-error.js";
import { PARLEY_ISSUER } from "./token-signer.js";

const HMAC_ALGORITHMS = ["HS256"];
const ASYMMETRIC_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"];

interface IssuerKey {
  issuer: TrustedIssuer | null;
  key: Promise<webcrypto.CryptoKey> | JWTVerifyGetKey;
  algorithms: string[];
}

/**
 * A shared secret as an HS256 verification key, imported once. Given the raw
 * bytes, jose imports them again on every verify: half the cost of checking a
 * token, which a reconnect storm pays once per client.
 */
function hmacKey(secret: string): Promise<webcrypto.CryptoKey> {
  const key = webcrypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
  key.catch(() => {}); // surfaces on the first verify
  return key;
}

function claimString(payload: JWTPayload, name: string): string | null {
  const v = payload[name];
  if (typeof v !== "string") return null;
  // Control characters and unpaired surrogates cannot be stored everywhere; drop them from names.
  const cleaned = [...v].filter((ch) => ch >= " " && isCleanString(ch)).join("").slice(0, 200);
  return cleaned.length > 0 ? cleaned : null;
}

function claimRoles(payload: JWTPayload): string[] {
  const roles = new Set<string>();
  if (Array.isArray(payload.roles)) for (const r of payload.roles) if (typeof r === "string") roles.add(r);
  if (typeof payload.role === "string") roles.add(payload.role);
  return [...roles];
}

/**
 * Turns credentials into a {@link Principal}: user JWTs (Parley's own secret
 * or a trusted issuer's, whose ids get that issuer's prefix) and the server
 * API key, optionally acting as one user through `Parley-User`.
 */
export class Authenticator {
  readonly #config: Config;
  readonly #users: UserDirectory;
  readonly #ownKey: IssuerKey;
  readonly #issuers = new Map<string, IssuerKey>();
  readonly #apiKey: Buffer;

  constructor(config: Config, users: UserDirectory) {
    this.#config = config;
    this.#users = users;
    this.#ownKey = { issuer: null, key: hmacKey(config.jwtSecret), algorithms: HMAC_ALGORITHMS };
    for (const issuer of config.jwtIssuers) {
      this.#issuers.set(
        issuer.iss,
        issuer.secret
          ? { issuer, key: hmacKey(issuer.secret), algorithms: HMAC_ALGORITHMS }
          : { issuer, key: createRemoteJWKSet(new URL(issuer.jwksUrl!)), algorithms: ASYMMETRIC_ALGORITHMS },
      );
    }
    this.#apiKey = Buffer.from(config.apiKey);
  }

  /** Verifies a user JWT. Throws `unauthenticated` with reason `missing`, `invalid` or `expired`. */
  async verifyToken(token: string | undefined | null): Promise<Principal> {
    if (!token) throw authError("missing", "A token is required");
    let unverified: JWTPayload;
    try {
      unverified = decodeJwt(token);
    } catch {
      throw authError("invalid", "The token is not a JWT");
    }
    const iss = typeof unverified.iss === "string" ? unverified.iss : undefined;
    const entry = (iss !== undefined && iss !== PARLEY_ISSUER && this.#issuers.get(iss)) || this.#ownKey;

    let payload: JWTPayload;
    try {
      const options: JWTVerifyOptions = {
        algorithms: entry.algorithms,
        ...(entry.issuer ? { issuer: entry.issuer.iss } : {}),
        ...(this.#config.dev ? {} : { requiredClaims: ["exp"] }),
        clockTolerance: 5,
      };
      const verified =
        typeof entry.key === "function" ? await jwtVerify(token, entry.key, options) : await jwtVerify(token, await entry.key, options);
      payload = verified.payload;
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw authError("expired", "The token has expired");
      if (err instanceof joseErrors.JWTClaimValidationFailed && err.claim === "exp") {
        throw authError("invalid", "The token has no exp claim");
      }
      throw authError("invalid", "The token could not be verified");
    }

    const sub = typeof payload.sub === "string" && payload.sub.length > 0 ? payload.sub : null;
    if (!sub) throw authError("invalid", "The token has no sub claim");
    if (!isCleanString(sub) || [...sub].some((ch) => ch < " ")) throw authError("invalid", "The sub claim has control characters");
    if (!entry.issuer && sub.includes(":")) {
      throw authError("invalid", 'A sub may not contain ":" (reserved for issuer prefixes)');
    }
    const id = (entry.issuer?.prefix ?? "") + sub;
    if (id.length > 200) throw authError("invalid", "The user id is too long");
    const roles = claimRoles(payload);
    return {
      id,
      name: claimString(payload, "name") ?? sub,
      avatar: claimString(payload, "avatar"),
      roles,
      kind: roles.includes("guest") ? "guest" : "user",
      expiresAt: typeof payload.exp === "number" ? payload.exp : null,
    };
  }

  /** True when `candidate` is the server API key (compared in constant time). */
  isApiKey(candidate: string): boolean {
    const given = Buffer.from(candidate);
    return given.length === this.#apiKey.length && timingSafeEqual(given, this.#apiKey);
  }

  /**
   * Authenticates an HTTP `Authorization: Bearer …` header: the API key acts
   * as admin, or as exactly `actAs` (the `Parley-User` header) when given.
   */
  async authenticateBearer(authorization: string | undefined, actAs: string | undefined): Promise<Principal> {
    const match = authorization ? /^Bearer\s+(\S+)\s*$/i.exec(authorization) : null;
    if (!match?.[1]) throw authError("missing", "Authorization: Bearer <token> is required");
    const credential = match[1];
    if (this.isApiKey(credential)) {
      if (actAs === undefined || actAs === "") {
        return { id: SYSTEM_USER_ID, name: "Parley", avatar: null, roles: ["admin"], kind: "system", expiresAt: null };
      }
      if (actAs.length > 200 || !isCleanString(actAs)) throw authError("invalid", "Parley-User is not a valid user id");
      const user = await this.#users.getOrCreate(actAs);
      return {
        id: user.id,
        name: user.name,
        avatar: user.avatar,
        roles: user.roles,
        kind: user.roles.includes("guest") ? "guest" : "user",
        expiresAt: null,
      };
    }
    if (actAs !== undefined) throw authError("invalid", "Parley-User is only accepted with the server API key");
    const principal = await this.verifyToken(credential);
    await this.#users.remember(principal);
    return principal;
  }
}
