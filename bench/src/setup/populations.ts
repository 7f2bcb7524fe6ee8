import type { SimUser } from "../load/worker-protocol.js";
import type { Target } from "../targets/target.js";
import { ParleyAdmin, mapLimit } from "./parley-admin.js";

/**
 * `clients` users in conversations of `members` (the last one may be
 * smaller). On Parley the conversations are group conversations the host
 * back end creates through REST; on the relay they are just room names.
 */
export async function groupedUsers(target: Target, clients: number, members: number, prefix: string): Promise<SimUser[]> {
  const groups: string[][] = [];
  for (let i = 0; i < clients; i += members) {
    groups.push(Array.from({ length: Math.min(members, clients - i) }, (_, k) => `${prefix}${i + k}`));
  }
  let ids: string[];
  if (target.spec.kind === "parley") {
    const admin = new ParleyAdmin(target.url, target.spec.apiKey);
    ids = await mapLimit(groups, 8, (group, i) => admin.createGroup(group, `Bench ${prefix}${i}`));
  } else {
    ids = groups.map((_, i) => `room-${prefix}${i}`);
  }
  return groups.flatMap((group, i) => group.map((userId) => ({ userId, conversations: [ids[i]!] })));
}
