import { useEffect, useMemo } from "react";
import type { Presence } from "@parley/protocol";
import { useParley } from "../parley-context.js";
import { useStoreSelector } from "./use-store.js";

type PresenceRecord = Record<string, Presence | undefined>;

function samePresence(a: PresenceRecord, b: PresenceRecord): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((k) => a[k] === b[k]);
}

/**
 * Presence of these users (`online`, `lastSeenAt`), kept current while the
 * component is mounted; `undefined` for a user until known. The server
 * only tells about users who share a conversation with this user.
 *
 * @example
 * const presence = usePresence(["bob"]);
 * presence.bob?.online;
 */
export function usePresence(userIds: readonly string[]): PresenceRecord {
  const client = useParley();
  const key = [...new Set(userIds)].sort().join("\n");
  const ids = useMemo(() => (key === "" ? [] : key.split("\n")), [key]);
  useEffect(() => client.presence.watch(ids), [client, ids]);
  return useStoreSelector(
    client.presence,
    (snapshot) => Object.fromEntries(ids.map((id) => [id, snapshot.get(id)])),
    samePresence,
  );
}
