import type { TypingUser } from "@parley/client";

/** The local calendar day of an ISO timestamp, as `YYYY-MM-DD`. */
export function dayKey(iso: string): string {
  const d = new Date(iso);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

/** "Today", "Yesterday" or a date such as "21 November 2026" for a day separator. */
export function dayLabel(iso: string, now: Date = new Date()): string {
  const key = dayKey(iso);
  if (key === dayKey(now.toISOString())) return "Today";
  const yesterday = new Date(now);
  yesterday.setDate(now.getDate() - 1);
  if (key === dayKey(yesterday.toISOString())) return "Yesterday";
  const d = new Date(iso);
  const sameYear = d.getFullYear() === now.getFullYear();
  return d.toLocaleDateString(undefined, { day: "numeric", month: "long", ...(sameYear ? {} : { year: "numeric" }) });
}

/** A message's time of day, e.g. "14:05". */
export function timeOfDay(iso: string): string {
  return new Date(iso).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
}

/** "now", "5 min", "3 h", "Yesterday" or a short date, for inbox rows and "last seen". */
export function relativeTime(iso: string, now: Date = new Date()): string {
  const seconds = Math.max(0, (now.getTime() - new Date(iso).getTime()) / 1000);
  if (seconds < 60) return "now";
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min`;
  if (dayKey(iso) === dayKey(now.toISOString())) return `${Math.floor(seconds / 3600)} h`;
  return dayLabel(iso, now);
}

/** When someone offline was last seen: "last seen just now", "… 5 min ago", "… 3 h ago", "… yesterday", "… on 21 November". */
export function lastSeen(iso: string, now: Date = new Date()): string {
  const when = relativeTime(iso, now);
  if (when === "now") return "last seen just now";
  if (/^\d+ (min|h)$/.test(when)) return `last seen ${when} ago`;
  if (when === "Yesterday") return "last seen yesterday";
  return `last seen on ${when}`;
}

/** "Alice is typing…", "Alice and Bob are typing…", "3 people are typing…"; empty when nobody is. */
export function typingSentence(users: readonly TypingUser[]): string {
  const [first, second] = users;
  if (!first) return "";
  if (users.length === 1) return `${first.name} is typing…`;
  if (users.length === 2 && second) return `${first.name} and ${second.name} are typing…`;
  return `${users.length} people are typing…`;
}

/** An unread badge: the count, or "99+". */
export function badge(count: number): string {
  return count > 99 ? "99+" : String(count);
}

const EMOJI_ONLY = /^(?:\p{Extended_Pictographic}|\p{Emoji_Component}|\u200d|\ufe0f|\s)+$/u;
/** A keycap emoji: a digit, `#` or `*`, then the enclosing keycap (1️⃣). */
const KEYCAP = /[\d#*]\ufe0f?\u20e3/gu;

/**
 * `true` for short messages made only of emoji (shown larger). Digits, `#`
 * and `*` count as emoji only inside a keycap (Unicode lists them as emoji
 * components for that), so "12 😀" is text.
 */
export function isEmojiOnly(text: string): boolean {
  const trimmed = text.trim();
  if (trimmed.length === 0 || [...trimmed].length > 12) return false;
  if (/[\d#*]/.test(trimmed.replace(KEYCAP, ""))) return false;
  return EMOJI_ONLY.test(trimmed);
}
