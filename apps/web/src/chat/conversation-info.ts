import type { ConversationSummary, Conversation, Member } from "@parley/protocol";

/** A conversation's name as its header shows it: its title, or the other people's names. */
export function titleOf(conversation: Conversation | null, members: readonly Pick<Member, "userId" | "name">[], me: string | null): string {
  if (conversation?.title) return conversation.title;
  if (conversation?.kind === "support") {
    const visitor = members[0];
    return visitor && visitor.userId !== me ? visitor.name : "Support";
  }
  const others = members.filter((m) => m.userId !== me).map((m) => m.name);
  if (others.length > 0) return others.join(", ");
  return conversation ? "Conversation" : "Loading…";
}

/** In a support conversation, the visitor: the member who opened it (the first to join). */
export function visitorOf(conversation: Pick<ConversationSummary, "members">): { userId: string; name: string } | null {
  return conversation.members[0] ?? null;
}

/** `true` when an operator has joined a support conversation besides the visitor. */
export function isAssigned(conversation: Pick<ConversationSummary, "members">): boolean {
  return conversation.members.length > 1;
}

/** Roles that may resolve, reopen and answer support conversations. */
export function isOperator(roles: readonly string[] | undefined): boolean {
  return !!roles && (roles.includes("operator") || roles.includes("admin"));
}

export function isModerator(roles: readonly string[] | undefined): boolean {
  return !!roles && (roles.includes("moderator") || roles.includes("admin"));
}

/** A visitor with a guest token (support chat only: no channels, no directory). */
export function isGuest(roles: readonly string[] | undefined): boolean {
  return !!roles && roles.includes("guest");
}
