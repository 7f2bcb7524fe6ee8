const TOKEN_KEY = "parley.token";
const GUEST_KEY = "parley.guest";

/**
 * Takes a token from the address bar's fragment (`#token=…&conversation=…`),
 * keeps it in session storage and removes it from the address bar, so it
 * never stays in the history or reaches a server log. Returns the
 * conversation to open, if the link named one.
 */
export function takeTokenFromFragment(): { conversationId: string | null } {
  const hash = window.location.hash.replace(/^#/, "");
  if (!hash) return { conversationId: null };
  const params = new URLSearchParams(hash);
  const token = params.get("token");
  if (!token) return { conversationId: null };
  const conversationId = params.get("conversation");
  sessionStorage.setItem(TOKEN_KEY, token);
  const path = conversationId ? `/c/${encodeURIComponent(conversationId)}` : window.location.pathname;
  window.history.replaceState(null, "", path + window.location.search);
  return { conversationId };
}

/** The signed-in user's token in this tab, if any. */
export function storedToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function storeToken(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function forgetToken(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}

/** A visitor's support chat, kept in this browser so they find it again. */
export interface GuestSession {
  token: string;
  expiresAt: string | null;
  name: string;
  email?: string;
  conversationId: string | null;
}

/** How long after its token expired a visitor's chat can still be picked up again (the server renews it for 30 days). */
const GUEST_RENEWABLE_MS = 29 * 24 * 3600 * 1000;

/** The visitor's chat kept in this browser, also when its token has run out but can still be renewed. */
export function storedGuest(): GuestSession | null {
  try {
    const raw = localStorage.getItem(GUEST_KEY);
    if (!raw) return null;
    const guest = JSON.parse(raw) as GuestSession;
    if (typeof guest.token !== "string") return null;
    if (guest.expiresAt && Date.parse(guest.expiresAt) + GUEST_RENEWABLE_MS <= Date.now()) return null;
    return guest;
  } catch {
    return null;
  }
}

/** Whether the visitor's token runs out within a minute (or has). */
export function guestTokenExpiring(guest: GuestSession): boolean {
  return guest.expiresAt !== null && Date.parse(guest.expiresAt) <= Date.now() + 60_000;
}

export function storeGuest(guest: GuestSession): void {
  localStorage.setItem(GUEST_KEY, JSON.stringify(guest));
}

export function forgetGuest(): void {
  localStorage.removeItem(GUEST_KEY);
}
