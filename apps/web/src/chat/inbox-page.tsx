import { useState } from "react";
import type { ConversationSummary } from "@parley/protocol";
import { ConversationList, Icon, conversationTitle, useConnection, useInbox } from "@parley/react";
import { CHANNELS_PATH, NEW_MESSAGE_PATH, conversationPath, goBack, navigate } from "../app/router.js";
import { ChannelBrowser } from "./channel-browser.js";
import { MIN_SEARCH_LENGTH, MessageSearch } from "./message-search.js";
import { NewMessage } from "./new-message.js";
import { ConversationView } from "./conversation-view.js";
import { isGuest } from "./conversation-info.js";

/**
 * The inbox beside the open conversation, or beside the channel directory
 * or "New message" (`side`); on phones, one or the other.
 */
export function InboxPage({ conversationId, side = null }: { conversationId: string | null; side?: "channels" | "new-message" | null }) {
  const browsing = side === "channels";
  const composing = side === "new-message";
  const { totalUnread, status } = useInbox();
  const { user } = useConnection();
  // Guests (support visitors) cannot browse channels; hidden until the session says who this is.
  const canBrowse = user !== null && !isGuest(user.roles);
  const [query, setQuery] = useState("");
  const needle = query.trim().toLocaleLowerCase();
  const matches = (c: ConversationSummary) =>
    conversationTitle(c, user?.id ?? null).toLocaleLowerCase().includes(needle) ||
    (c.lastMessage?.text ?? "").toLocaleLowerCase().includes(needle);
  return (
    <div className="split" data-open={conversationId || side ? "conversation" : "list"}>
      <aside className="sidebar" aria-label="Inbox">
        <div className="sidebar-head">
          <div className="sidebar-title">
            <h1>Chats</h1>
            {totalUnread > 0 && <span className="muted small">{totalUnread} unread</span>}
          </div>
          {canBrowse && (
            <div className="sidebar-actions">
              <button
                type="button"
                className="icon-button"
                aria-label="New message"
                title="New message"
                aria-pressed={composing}
                onClick={() => navigate(composing ? "/" : NEW_MESSAGE_PATH)}
              >
                <Icon name="edit" size={18} />
              </button>
              <button
                type="button"
                className="button browse-button"
                aria-pressed={browsing}
                onClick={() => navigate(browsing ? "/" : CHANNELS_PATH)}
              >
                <span aria-hidden="true">#</span> Browse channels
              </button>
            </div>
          )}
        </div>
        <div className="sidebar-search">
          <input
            type="search"
            aria-label="Search conversations and messages"
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
          emptyText={
            <span className="sidebar-note">
              {needle ? (
                "No conversation matches"
              ) : (
                <>
                  No conversations yet
                  {canBrowse && (
                    <>
                      <br />
                      <button type="button" className="link-button" onClick={() => navigate(CHANNELS_PATH)}>
                        Find a channel to join
                      </button>
                    </>
                  )}
                </>
              )}
            </span>
          }
        />
        {needle.length >= MIN_SEARCH_LENGTH && <MessageSearch query={query.trim()} />}
      </aside>
      <main className="main-pane">
        {browsing ? (
          <ChannelBrowser onBack={() => goBack("/")} />
        ) : composing ? (
          <NewMessage onBack={() => goBack("/")} />
        ) : conversationId ? (
          <ConversationView key={conversationId} conversationId={conversationId} onBack={() => goBack("/")} />
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
