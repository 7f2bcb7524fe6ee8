import { useSyncExternalStore } from "react";

/** A page of the web app, parsed from the address bar's path. */
export type Route =
  | { page: "inbox"; conversationId: string | null }
  | { page: "desk"; conversationId: string | null }
  | { page: "channels" }
  | { page: "new-message" }
  | { page: "support" }
  | { page: "dev-login" }
  | { page: "not-found" };

const listeners = new Set<() => void>();

function notify(): void {
  for (const listener of [...listeners]) listener();
}

if (typeof window !== "undefined") window.addEventListener("popstate", notify);

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

const getPath = () => window.location.pathname;

/** Reads a route from a path: `/`, `/c/<id>`, `/channels`, `/new`, `/desk`, `/desk/c/<id>`, `/support`, `/dev/login`. */
export function parseRoute(path: string): Route {
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  if (parts.length === 0) return { page: "inbox", conversationId: null };
  if (parts[0] === "c" && parts.length === 2) return { page: "inbox", conversationId: parts[1]! };
  if (parts[0] === "channels" && parts.length === 1) return { page: "channels" };
  if (parts[0] === "new" && parts.length === 1) return { page: "new-message" };
  if (parts[0] === "desk" && parts.length === 1) return { page: "desk", conversationId: null };
  if (parts[0] === "desk" && parts[1] === "c" && parts.length === 3) return { page: "desk", conversationId: parts[2]! };
  if (parts[0] === "support" && parts.length === 1) return { page: "support" };
  if (parts[0] === "dev" && parts[1] === "login" && parts.length === 2) return { page: "dev-login" };
  return { page: "not-found" };
}

/** The channel directory: open channels to join. */
export const CHANNELS_PATH = "/channels";

/** "New message": someone from the user's conversations to write to directly. */
export const NEW_MESSAGE_PATH = "/new";

/** The path of a conversation in the inbox or in the desk. */
export function conversationPath(conversationId: string, desk = false): string {
  return `${desk ? "/desk" : ""}/c/${encodeURIComponent(conversationId)}`;
}

/** Goes to a path of the app without reloading (a new history entry, or replacing this one). */
export function navigate(path: string, options: { replace?: boolean } = {}): void {
  if (path === window.location.pathname) return;
  // Each entry the app pushes counts how many of its own lie before it, so Back can tell whether there is one.
  const depth = historyDepth();
  if (options.replace) window.history.replaceState({ parleyDepth: depth }, "", path);
  else window.history.pushState({ parleyDepth: depth + 1 }, "", path);
  notify();
}

function historyDepth(): number {
  const state: unknown = window.history.state;
  const depth = typeof state === "object" && state !== null ? (state as { parleyDepth?: unknown }).parleyDepth : undefined;
  return typeof depth === "number" ? depth : 0;
}

/**
 * The app's own Back button: the browser's Back when the page before is one
 * of the app's (so the two never disagree, and a phone's back gesture does
 * not return to what was just left), else `fallback` in place of this page
 * (a conversation opened from a link goes back to the list).
 */
export function goBack(fallback: string): void {
  if (historyDepth() > 0) window.history.back();
  else navigate(fallback, { replace: true });
}

/** The current route; re-renders on navigation and on Back/Forward. */
export function useRoute(): Route {
  const path = useSyncExternalStore(subscribe, getPath, getPath);
  return parseRoute(path);
}
