import { lastSeen } from "../format.js";
import { useNow } from "../hooks/use-now.js";
import { usePresence } from "../hooks/use-presence.js";

/** Props of {@link PresenceDot}. */
export interface PresenceDotProps {
  userId: string;
  /** Also write "Online" / "Last seen …" next to the dot. @default false */
  showLabel?: boolean;
  className?: string;
}

function capitalized(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** A status dot for one user: online, or offline with when they were last seen. */
export function PresenceDot({ userId, showLabel = false, className }: PresenceDotProps) {
  const presence = usePresence([userId])[userId];
  const online = presence?.online === true;
  const now = useNow();
  const label = online
    ? "Online"
    : presence?.lastSeenAt
      ? capitalized(lastSeen(presence.lastSeenAt, now))
      : "Offline";
  return (
    <span className={`parley-presence${className ? ` ${className}` : ""}`} data-online={online} title={label}>
      <span className="parley-presence-dot" role="img" aria-label={label} />
      {showLabel && <span className="parley-presence-label">{label}</span>}
    </span>
  );
}
