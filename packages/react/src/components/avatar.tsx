/** Props of {@link Avatar}. */
export interface AvatarProps {
  /** Picks the colour, so one person keeps theirs everywhere. */
  userId: string;
  name: string;
  /** Diameter in pixels. @default 32 */
  size?: number;
  className?: string;
}

const HUES = [210, 340, 160, 30, 265, 190, 0, 120, 290, 45];

/** Up to two initials of a name: "Casey Morgan" → "CM", "Val (visitor)" → "V". */
export function initials(name: string): string {
  const words = name
    .replace(/\(.*?\)/g, " ")
    .split(/\s+/)
    .filter((w) => /\p{L}|\p{N}/u.test(w));
  const letters = words.slice(0, 2).map((w) => [...w.replace(/^[^\p{L}\p{N}]+/u, "")][0] ?? "");
  return letters.join("").toUpperCase() || "?";
}

function hueOf(userId: string): number {
  let hash = 0;
  for (const ch of userId) hash = (hash * 31 + ch.codePointAt(0)!) >>> 0;
  return HUES[hash % HUES.length]!;
}

/**
 * A round avatar with the person's initials on a colour of their own.
 * Decorative: the name is always written next to it, so screen readers skip it.
 */
export function Avatar({ userId, name, size = 32, className }: AvatarProps) {
  const hue = hueOf(userId);
  return (
    <span
      className={`parley-avatar${className ? ` ${className}` : ""}`}
      aria-hidden="true"
      style={{
        width: size,
        height: size,
        fontSize: Math.round(size * 0.4),
        background: `hsl(${hue} 55% 88%)`,
        color: `hsl(${hue} 60% 28%)`,
      }}
    >
      {initials(name)}
    </span>
  );
}
