/**
 * Who is acting: a user from a verified token, a guest visitor, or the host
 * back end through the server API key (`system`, acting as admin).
 */
export interface Principal {
  readonly id: string;
  readonly name: string;
  readonly avatar: string | null;
  readonly roles: readonly string[];
  readonly kind: "user" | "guest" | "system";
  /** Token expiry in epoch seconds, or `null` when it has none. */
  readonly expiresAt: number | null;
}

/** The id the server API key acts as when no `Parley-User` is given. */
export const SYSTEM_USER_ID = "parley:system";

export const isAdmin = (p: Principal): boolean => p.kind === "system" || p.roles.includes("admin");
export const isOperator = (p: Principal): boolean => p.kind !== "guest" && (p.roles.includes("operator") || isAdmin(p));
export const isGlobalModerator = (p: Principal): boolean => p.kind !== "guest" && (p.roles.includes("moderator") || isAdmin(p));
export const isGuest = (p: Principal): boolean => p.kind === "guest";
