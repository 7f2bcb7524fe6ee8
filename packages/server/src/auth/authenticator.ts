import { timingSafeEqual } from "node:crypto";
import { createVerifier, TokenError } from "fast-jwt";
import { createRemoteJWKSet, decodeJwt, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyOptions } from "jose";
import { isCleanString } from "@parley/protocol";
import type { Config, TrustedIssuer } from "../config/config.js";
import type { Principal } from "../domain/principal.js";
import { SYSTEM_USER_ID } from "../domain/principal.js";
import type { UserDirectory } from "../domain/users.js";
import { authError } from "./auth-error.js";
import { PARLEY_ISSUER } from "./token-signer.js";

const ASYMMETRIC_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"];
/** Seconds a token's exp and nbf may be off by. */
const CLOCK_TOLERANCE_S = 5;

interface IssuerKey {
  issuer: TrustedIssuer | null;
  /** The token's verified claims; throws {@link TokenError} or a jose error when it is not valid. */
  verify: (token: string) => Promise<JWTPayload>;
}

/**
 * Verification of HS256 tokens signed with a shared secret, by fast-jwt,
 * which checks the signature with node:crypto on the calling thread. jose
 * checks it through WebCrypto, whose every call is a job on libuv's thread
 * pool: measured in a burst of 10,000 connects, handing those jobs over took
 * 18 % of the event loop (about 0.2 ms a token, the loop waiting while a pool
 * thread took its core), against about 8 µs a token with node:crypto.
 */
function hmacVerifier(secret: string, issuer: TrustedIssuer | null, requireExp: boolean): IssuerKey["verify"] {
  const verify = createVerifier({
    key: secret,
    algorithms: ["HS256"],
    clockTolerance: CLOCK_TOLERANCE_S * 1000,
    ...(issuer ? { allowedIss: issuer.iss } : {}),
    ...(requireExp ? { requiredClaims: ["exp"] } : {}),
  });
  // Synchronous: a refused token throws, which the async function turns into a rejection.
  return async (token) => verify(token) as JWTPayload;
}

/** Verification of a trusted issuer's tokens against its JSON Web Key Set, by jose (which fetches and caches the keys). */
function jwksVerifier(issuer: TrustedIssuer, requireExp: boolean): IssuerKey["verify"] {
  const keys = createRemoteJWKSet(new URL(issuer.jwksUrl!));
  const options: JWTVerifyOptions = {
    algorithms: ASYMMETRIC_ALGORITHMS,
    issuer: issuer.iss,
    clockTolerance: CLOCK_TOLERANCE_S,
    ...(requireExp ? { requiredClaims: ["exp"] } : {}),
  };
  return async (token) => (await jwtVerify(token, keys, options)).payload;
}

/** Why a token was refused, as Parley says it: expired, or invalid with a reason. */
function refusal(err: unknown): Error {
  if (err instanceof TokenError) {
    if (err.code === TokenError.codes.expired) return authError("expired", "The token has expired");
    if (err.code === TokenError.codes.missingRequiredClaim) return authError("invalid", "The token has no exp claim");
  }
  if (err instanceof joseErrors.JWTExpired) return authError("expired", "The token has expired");
  if (err instanceof joseErrors.JWTClaimValidationFailed && err.claim === "exp") {
    return authError("invalid", "The token has no exp claim");
  }
  return authError("invalid", "The token could not be verified");
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
  readonly #users: UserDirectory;
  readonly #ownKey: IssuerKey;
  readonly #issuers = new Map<string, IssuerKey>();
  readonly #apiKey: Buffer;

  constructor(config: Config, users: UserDirectory) {
    this.#users = users;
    const requireExp = !config.dev;
    this.#ownKey = { issuer: null, verify: hmacVerifier(config.jwtSecret, null, requireExp) };
    for (const issuer of config.jwtIssuers) {
      this.#issuers.set(issuer.iss, {
        issuer,
        verify: issuer.secret ? hmacVerifier(issuer.secret, issuer, requireExp) : jwksVerifier(issuer, requireExp),
      });
    }
    this.#apiKey = Buffer.from(config.apiKey);
  }

  /** Verifies a user JWT. Throws `unauthenticated` with reason `missing`, `invalid` or `expired`. */
  async verifyToken(given: string | undefined | null): Promise<Principal> {
    // A token read from a file or an environment variable may end in a newline.
    const token = given?.trim();
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
      payload = await entry.verify(token);
    } catch (err) {
      throw refusal(err);
    }
    // Parley reads no iat, but a token that has one says when it was issued, as a number.
    if (payload.iat !== undefined && typeof payload.iat !== "number") throw authError("invalid", "The iat claim is not a number");

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
