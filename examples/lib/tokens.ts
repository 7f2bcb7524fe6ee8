import { SignJWT } from "jose";

/** Who a chat token is for, as the host back end knows them. */
export interface ChatUser {
  /** The host's own user id (Parley adds the issuer's prefix, if any). */
  id: string;
  /** Shown to the other people in the chat. */
  name: string;
  /** Parley's global roles: `operator`, `moderator`, `admin`. */
  roles?: string[];
}

export interface TokenOptions {
  /** The `iss` claim; Parley verifies a token whose `iss` is a trusted issuer with that issuer's secret. */
  issuer?: string;
  /** Lifetime in seconds. @default 3600 */
  ttlSeconds?: number;
}

/**
 * Signs the HS256 token a host back end hands to its signed-in user's
 * browser, so the browser can connect to Parley as that user. Parley reads
 * `sub`, `name`, `roles` and `exp`; it never lets the client pick who it is.
 */
export async function mintChatToken(secret: string, user: ChatUser, options: TokenOptions = {}): Promise<string> {
  const jwt = new SignJWT({ name: user.name, roles: user.roles ?? [] })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(user.id)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + (options.ttlSeconds ?? 3600));
  if (options.issuer !== undefined) jwt.setIssuer(options.issuer);
  return jwt.sign(new TextEncoder().encode(secret));
}
