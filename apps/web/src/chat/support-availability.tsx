import { useEffect, useState } from "react";
import type { ParleyClient } from "@parley/client";

/** How often a visitor's page asks whether an operator is online. */
export const AVAILABILITY_REFRESH_MS = 30_000;

/** Asks the server, as the signed-in user, or (no client yet: the pre-chat form) without a token. */
async function askAvailability(client: ParleyClient | null): Promise<{ operatorsOnline: number }> {
  if (client) return client.api<{ operatorsOnline: number }>("GET", "/v1/support/availability");
  const res = await fetch("/v1/support/availability");
  if (!res.ok) throw new Error(`availability: ${res.status}`);
  return (await res.json()) as { operatorsOnline: number };
}

/**
 * How many support operators are online (`GET /v1/support/availability`),
 * `null` until the first answer. Without a client it asks without a token,
 * which the server allows where visitors may chat. Asks again every `refreshMs` while the tab
 * is visible, at once when the window regains focus or the tab becomes
 * visible again, and stops when the component unmounts. A failed check keeps
 * the last answer.
 */
export function useSupportAvailability(client: ParleyClient | null, refreshMs = AVAILABILITY_REFRESH_MS): number | null {
  const [operatorsOnline, setOperatorsOnline] = useState<number | null>(null);
  useEffect(() => {
    let live = true;
    let asking = false;
    const check = () => {
      if (asking) return;
      asking = true;
      askAvailability(client)
        .then(
          ({ operatorsOnline: n }) => live && setOperatorsOnline(n),
          () => undefined,
        )
        .finally(() => {
          asking = false;
        });
    };
    const onVisibility = () => {
      if (document.visibilityState === "visible") check();
    };
    check();
    const timer = setInterval(() => {
      if (document.visibilityState !== "hidden") check();
    }, refreshMs);
    window.addEventListener("focus", check);
    document.addEventListener("visibilitychange", onVisibility);
    return () => {
      live = false;
      clearInterval(timer);
      window.removeEventListener("focus", check);
      document.removeEventListener("visibilitychange", onVisibility);
    };
  }, [client, refreshMs]);
  return operatorsOnline;
}

/** "We are online" (a green dot) or "We'll reply as soon as we can", announced politely when it changes. */
export function SupportAvailability({ operatorsOnline, className }: { operatorsOnline: number | null; className?: string }) {
  const online = operatorsOnline !== null && operatorsOnline > 0;
  return (
    <span role="status" className={`availability${className ? ` ${className}` : ""}`} data-online={operatorsOnline === null ? undefined : online}>
      {operatorsOnline !== null && (
        <>
          <span className="parley-presence-dot" data-online={online} aria-hidden="true" />
          <span>{online ? "We are online" : "We'll reply as soon as we can"}</span>
        </>
      )}
    </span>
  );
}
