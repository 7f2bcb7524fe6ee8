import { jwtVerify, SignJWT, type JWTPayload } from "jose";

/** The `iss` of tokens Parley signs itself. */
export const PARLEY_ISSUER = "parley";

export interface TokenClaims {
  sub: string;
  name?: string;
  avatar?: string;
  roles?: string[];
  /** Lifetime in seconds; `0` means no `exp` (accepted in dev mode only). @default 86400 */
  ttl?: number;
}

/** Signs Parley's own HS256 tokens (guests, `POST /v1/tokens`, `parley token`). */
export class TokenSigner {
  readonly #key: Uint8Array;

  constructor(secret: string) {
    this.#key = new TextEncoder().encode(secret);
  }

  async sign(claims: TokenClaims): Promise<{ token: string; expiresAt: string | null }> {
    const ttl = claims.ttl ?? 86400;
    const now = Math.floor(Date.now() / 1000);
    const jwt = new SignJWT({
      ...(claims.name ? { name: claims.name } : {}),
      ...(claims.avatar ? { avatar: claims.avatar } : {}),
      roles: claims.roles ?? [],
    })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setIssuer(PARLEY_ISSUER)
      .setSubject(claims.sub)
      .setIssuedAt(now);
    const exp = ttl > 0 ? now + ttl : null;
    if (exp !== null) jwt.setExpirationTime(exp);
    return { token: await jwt.sign(this.#key), expiresAt: exp === null ? null : new Date(exp * 1000).toISOString() };
  }

  /**
   * The claims of a token this signer made, also when it expired up to
   * `expiredUpTo` seconds ago; `null` when it is not one of its tokens or
   * expired longer ago than that.
   */
  async verifyOwn(token: string, expiredUpTo: number): Promise<JWTPayload | null> {
    try {
      const { payload } = await jwtVerify(token, this.#key, { issuer: PARLEY_ISSUER, algorithms: ["HS256"], clockTolerance: expiredUpTo });
      return payload;
    } catch {
      return null;
    }
  }
}
