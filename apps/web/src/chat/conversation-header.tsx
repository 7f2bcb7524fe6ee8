import type { ReactNode } from "react";
import type { Conversation, Member } from "@parley/protocol";
import { Avatar, Icon, lastSeen, useNow, usePresence } from "@parley/react";

function DirectPresence({ userId }: { userId: string }) {
  const presence = usePresence([userId])[userId];
  const now = useNow();
  if (!presence) return null;
  const text = presence.online ? "online" : presence.lastSeenAt ? lastSeen(presence.lastSeenAt, now) : "last seen a while ago";
  return (
    <span className="presence-line" data-online={presence.online}>
      <span className="parley-presence-dot" data-online={presence.online} aria-hidden="true" />
      <span>{text}</span>
    </span>
  );
}

function GroupPresence({ members, me }: { members: readonly Member[]; me: string | null }) {
  const presence = usePresence(members.map((m) => m.userId).filter((id) => id !== me));
  const online = members.filter((m) => m.userId === me || presence[m.userId]?.online).length;
  return (
    <span className="presence-line">
      {members.length} {members.length === 1 ? "member" : "members"}, {online} online
    </span>
  );
}

/** The top of a conversation: back (on phones), who it is with and their presence, and actions. */
export function ConversationHeader(props: {
  conversation: Conversation | null;
  members: readonly Member[];
  title: string;
  me: string | null;
  onBack?: () => void;
  actions?: ReactNode;
  /** Replaces the presence line (e.g. for visitors). */
  subtitle?: ReactNode;
}) {
  const { conversation, members, title, me, onBack, actions, subtitle } = props;
  const kind = conversation?.kind;
  // Direct: the other person; support (for operators): the visitor, who opened it.
  const other =
    kind === "direct" ? members.find((m) => m.userId !== me) : kind === "support" && members[0]?.userId !== me ? members[0] : undefined;
  return (
    <header className="conversation-header">
      {onBack && (
        <button type="button" className="icon-button back-button" aria-label="Back" onClick={onBack}>
          <Icon name="back" size={20} />
        </button>
      )}
      {kind === "channel" ? (
        <span className="parley-avatar parley-channel-avatar header-avatar" aria-hidden="true">
          #
        </span>
      ) : (
        <Avatar userId={other?.userId ?? conversation?.id ?? "?"} name={title} size={40} className="header-avatar" />
      )}
      <div className="conversation-heading">
        <h2>{title}</h2>
        <div className="conversation-subtitle">
          {subtitle ? (
            <span className="presence-line">{subtitle}</span>
          ) : other ? (
            <DirectPresence userId={other.userId} />
          ) : kind === "channel" ? (
            <span className="presence-line">
              Channel · {members.length} {members.length === 1 ? "member" : "members"}
            </span>
          ) : members.length > 0 ? (
            <GroupPresence members={members} me={me} />
          ) : null}
          {conversation?.status === "closed" && <span className="tag tag-muted">{conversation.kind === "support" ? "Resolved" : "Closed"}</span>}
        </div>
      </div>
      {actions && <div className="conversation-actions">{actions}</div>}
    </header>
  );
}
