import type { Principal } from "../domain/principal.js";

/** Which seed scenario a demo user takes part in. */
export type DemoScenario = "booking" | "marketplace" | "dispute" | "community" | "support";

/** A person the dev login page offers, with what they can try. */
export interface DemoUser {
  readonly id: string;
  readonly name: string;
  readonly roles: readonly string[];
  /** Who they are, e.g. "Customer". */
  readonly label: string;
  /** What signing in as them shows. */
  readonly description: string;
  readonly scenarios: readonly DemoScenario[];
}

/**
 * The demo users of dev mode: one or more for every seed scenario. Their ids
 * carry no `:` because dev tokens are signed with Parley's own secret (ids
 * with an issuer prefix, such as `bartender:7`, come from trusted issuers).
 */
export const DEMO_USERS: readonly DemoUser[] = [
  {
    id: "casey",
    name: "Casey Morgan",
    roles: [],
    label: "Customer",
    description: "Books a bartender, messages a photographer and has a dispute with a cleaner.",
    scenarios: ["booking", "marketplace", "dispute", "community"],
  },
  {
    id: "pat",
    name: "Pat Lee",
    roles: [],
    label: "Photographer",
    description: "Chats with a customer about a shoot.",
    scenarios: ["marketplace"],
  },
  {
    id: "sam",
    name: "Sam Rivera",
    roles: [],
    label: "Bartender",
    description: "Talks to the customer in the chat of booking #42.",
    scenarios: ["booking"],
  },
  {
    id: "priya",
    name: "Priya Shah",
    roles: [],
    label: "Provider",
    description: "A cleaning provider in a dispute over order #7.",
    scenarios: ["dispute"],
  },
  {
    id: "morgan",
    name: "Morgan Blake",
    roles: ["moderator"],
    label: "Moderator",
    description: "Joined the dispute later and moderates the community channel.",
    scenarios: ["dispute", "community"],
  },
  {
    id: "olivia",
    name: "Olivia Chen",
    roles: ["operator"],
    label: "Operator",
    description: "Answers visitors in the support desk.",
    scenarios: ["support"],
  },
  {
    id: "omar",
    name: "Omar Haddad",
    roles: ["operator"],
    label: "Operator",
    description: "A second operator: sees the same support desk.",
    scenarios: ["support"],
  },
  {
    id: "guest-demo",
    name: "Val (visitor)",
    roles: ["guest"],
    label: "Guest visitor",
    description: "A website visitor with an open support chat.",
    scenarios: ["support"],
  },
  {
    id: "alex",
    name: "Alex Kim",
    roles: [],
    label: "Community member",
    description: "Posts in the community channel.",
    scenarios: ["community"],
  },
  {
    id: "jamie",
    name: "Jamie Fox",
    roles: [],
    label: "Community member",
    description: "Posts in the community channel.",
    scenarios: ["community"],
  },
  {
    id: "robin",
    name: "Robin Park",
    roles: [],
    label: "Community member",
    description: "Posts in the community channel.",
    scenarios: ["community"],
  },
];

/** The demo user with this id, if there is one. */
export function findDemoUser(id: string): DemoUser | undefined {
  return DEMO_USERS.find((u) => u.id === id);
}

/** A demo user as the domain sees a signed-in user. */
export function demoPrincipal(user: DemoUser): Principal {
  return {
    id: user.id,
    name: user.name,
    avatar: null,
    roles: [...user.roles],
    kind: user.roles.includes("guest") ? "guest" : "user",
    expiresAt: null,
  };
}
