import { ParleyClientError } from "../parley-client-error.js";

/** Reads a JWT's `exp` (seconds since the epoch) without verifying it; `null` when absent or unreadable. */
export function tokenExpiry(token: string): number | null {
  const part = token.split(".")[1];
  if (!part) return null;
  try {
    const base64 = part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "=");
    const claims: unknown = JSON.parse(atob(base64));
    const exp = (claims as { exp?: unknown } | null)?.exp;
    return typeof exp === "number" && Number.isFinite(exp) ? exp : null;
  } catch {
    return null;
  }
}

/** Where tokens come from: a fixed token, or a function the SDK calls for a fresh one. */
export class TokenSource {
  #token: string | null;
  readonly #getToken: (() => string | Promise<string>) | null;

  constructor(token: string | undefined, getToken: (() => string | Promise<string>) | undefined) {
    this.#token = token ?? null;
    this.#getToken = getToken ?? null;
  }

  /** `true` when a new token can be asked for (a `getToken` was given). */
  get canRefresh(): boolean {
    return this.#getToken !== null;
  }

  /** The token in use, if any. */
  get token(): string | null {
    return this.#token;
  }

  /** The `exp` of the token in use. */
  get expiresAt(): number | null {
    return this.#token === null ? null : tokenExpiry(this.#token);
  }

  /** The token to connect with: the one held while it is valid, else a fresh one. */
  async current(): Promise<string> {
    if (this.#token !== null) {
      const exp = tokenExpiry(this.#token);
      if (!this.canRefresh || exp === null || exp * 1000 > Date.now()) return this.#token;
    }
    return this.fresh();
  }

  /** Asks `getToken` for a new token and keeps it. */
  async fresh(): Promise<string> {
    if (!this.#getToken) {
      if (this.#token !== null) return this.#token;
      throw new ParleyClientError("unauthenticated", "No token was given", { reason: "missing" });
    }
    const token = await this.#getToken();
    if (typeof token !== "string" || token.length === 0) {
      throw new ParleyClientError("unauthenticated", "getToken returned no token", { reason: "missing" });
    }
    this.#token = token;
    return token;
  }

  /** Forgets the held token so the next `current()` asks for a new one. */
  invalidate(): void {
    if (this.canRefresh) this.#token = null;
  }

  /** Keeps a token obtained elsewhere (after a successful `auth:refresh`). */
  set(token: string): void {
    this.#token = token;
  }
}
