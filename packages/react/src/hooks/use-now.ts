import { useEffect, useState } from "react";

/**
 * The current time, refreshed every `intervalMs`, so relative times ("5
 * min", "last seen 3 h") move on while nothing else changes.
 *
 * @example
 * const now = useNow();
 * return <time>{relativeTime(at, now)}</time>;
 */
export function useNow(intervalMs = 30_000): Date {
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    const timer = setInterval(() => setNow(new Date()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}
