import { useEffect, useRef, useState } from "react";
import type { ConversationSummary } from "@parley/protocol";
import { Avatar, Icon, PresenceDot, useConnection, useInbox, useParley } from "@parley/react";
import { conversationPath, navigate } from "../app/router.js";
import { SidePane, moveFocus } from "./side-pane.js";

/** Someone the user can write to directly. */
export interface Contact {
  userId: string;
  name: string;
}

/**
 * The people the user shares a direct or group conversation with, by name:
 * whom a "New message" can go to. Parley keeps no directory of the host's
 * users for everyone to browse; these are people the user already knows
 * through the app (channels' members and support visitors are left out).
 */
export function contactsOf(conversations: readonly ConversationSummary[], me: string | null): Contact[] {
  const byId = new Map<string, Contact>();
  for (const c of conversations) {
    if (c.kind !== "direct" && c.kind !== "group") continue;
    for (const m of c.members) if (m.userId !== me && !byId.has(m.userId)) byId.set(m.userId, { userId: m.userId, name: m.name });
  }
  return [...byId.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * "New message" (`/new`): pick someone from the user's conversations and
 * write to them in the direct conversation of the two (created the first
 * time, the same one after). On phones it is a screen of its own with Back.
 */
export function NewMessage({ onBack }: { onBack: () => void }) {
  const client = useParley();
  const { conversations, hasMore, loadingMore } = useInbox();
  const { user } = useConnection();
  const [query, setQuery] = useState("");
  const [opening, setOpening] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const live = useRef(true);
  const search = useRef<HTMLInputElement>(null);
  useEffect(() => {
    search.current?.focus({ preventScroll: true });
    return () => {
      live.current = false;
    };
  }, []);

  const needle = query.trim().toLocaleLowerCase();
  const contacts = contactsOf(conversations, user?.id ?? null).filter((c) => c.name.toLocaleLowerCase().includes(needle));

  const write = (contact: Contact) => {
    setOpening(contact.userId);
    setError(null);
    client.createConversation({ kind: "direct", members: [contact.userId] }).then(
      (conversation) => {
        // Unless the user went elsewhere meanwhile; "New message" gives way to the conversation in the history.
        if (live.current) navigate(conversationPath(conversation.id), { replace: true });
      },
      (err: unknown) => {
        if (!live.current) return;
        setOpening(null);
        setError(`Could not open a chat with ${contact.name}: ${err instanceof Error ? err.message : String(err)}`);
      },
    );
  };

  return (
    <SidePane
      titleId="new-message-title"
      title="New message"
      subtitle="To someone from your conversations"
      mark={<Icon name="edit" size={18} />}
      onBack={onBack}
    >
      <div className="channel-browser-body new-message-body">
        <div className="sidebar-search">
          <input
            ref={search}
            type="search"
            aria-label="Search people"
            placeholder="Name"
            value={query}
            onChange={(e) => setQuery(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === "Escape" && query !== "") {
                e.preventDefault();
                setQuery("");
              }
            }}
          />
        </div>
        {error && (
          <p className="action-error" role="alert">
            {error}
          </p>
        )}
        {contacts.length === 0 ? (
          <div className="empty-state">
            <p className="empty-title">{needle ? "No one by that name" : "No one to write to yet"}</p>
            <p className="muted">People show up here once you share a conversation with them.</p>
          </div>
        ) : (
          <ul className="channel-list" aria-label="People" onKeyDown={moveFocus}>
            {contacts.map((contact) => (
              <li key={contact.userId} className="channel-row">
                <Avatar userId={contact.userId} name={contact.name} size={36} />
                <span className="channel-text">
                  <span className="channel-title">{contact.name}</span>
                  <span className="channel-meta">
                    <PresenceDot userId={contact.userId} showLabel />
                  </span>
                </span>
                <button
                  type="button"
                  className="button primary channel-action"
                  aria-label={`Message ${contact.name}`}
                  disabled={opening !== null}
                  aria-busy={opening === contact.userId}
                  onClick={() => write(contact)}
                >
                  {opening === contact.userId ? "Opening…" : "Message"}
                </button>
              </li>
            ))}
          </ul>
        )}
        {hasMore && <p className="sidebar-note">{loadingMore ? "Loading more conversations…" : "Only people from the conversations loaded so far are listed."}</p>}
      </div>
    </SidePane>
  );
}
