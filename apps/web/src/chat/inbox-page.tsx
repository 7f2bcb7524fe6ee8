import { useState } from "react";
import type { ConversationSummary } from "@parley/protocol";
import { ConversationList, Icon, conversationTitle, useConnection, useInbox } from "@parley/react";
import { conversationPath, navigate } from "../app/router.js";
import { ConversationView } from "./conversation-view.js";

/** The inbox beside the open conversation; on phones, one or the other. */
export function InboxPage({ conversationId }: { conversationId: string | null }) {
  const { totalUnread, status } = useInbox();
  const { user } = useConnection();
  const [query, setQuery] = useState("");
  const needle = query.trim().toLocaleLowerCase();
  const matches = (c: ConversationSummary) =>
    conversationTitle(c, user?.id ?? null).toLocaleLowerCase().includes(needle) ||
    (c.lastMessage?.text ?? "").toLocaleLowerCase().includes(needle);
  return (
    <div className="split" data-open={conversationId ? "conversation" : "list"}>
      <aside className="sidebar" aria-label="Inbox">
        <div className="sidebar-head">
          <h1>Chats</h1>
          {totalUnread > 0 && <span className="muted small">{totalUnread} unread</span>}
        </div>
        <div className="sidebar-search">
          <input
            type="search"
            aria-label="Search conversations"
            placeholder="Search"
            value={query}
            onChange={(e) => setQuery(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === "Escape") setQuery("");
            }}
          />
        </div>
        {status === "loading" || status === "idle" ? <p className="sidebar-note">Loading conversations…</p> : null}
        {status === "error" ? (
          <p className="sidebar-note" role="alert">
            Conversations could not be loaded.
          </p>
        ) : null}
        <ConversationList
          selectedId={conversationId}
          onSelect={(id) => navigate(conversationPath(id))}
          filter={needle ? matches : undefined}
          emptyText={<span className="sidebar-note">{needle ? "No conversation matches" : "No conversations yet"}</span>}
        />
      </aside>
      <main className="main-pane">
        {conversationId ? (
          <ConversationView key={conversationId} conversationId={conversationId} onBack={() => navigate("/")} />
        ) : (
          <div className="empty-state">
            <div className="empty-illustration" aria-hidden="true">
              <Icon name="chat" size={36} />
            </div>
            <p className="empty-title">Pick a conversation</p>
            <p className="muted">Choose a chat on the left to read and reply.</p>
          </div>
        )}
      </main>
    </div>
  );
}
