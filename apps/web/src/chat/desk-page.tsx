import { useState, type KeyboardEvent } from "react";
import type { ConversationSummary } from "@parley/protocol";
import { Avatar, ConversationList, Icon, badge, relativeTime, useConnection, useConversation, useInbox } from "@parley/react";
import { conversationPath, goBack, navigate } from "../app/router.js";
import { ConversationView } from "./conversation-view.js";
import { isAssigned, visitorOf } from "./conversation-info.js";

type Tab = "mine" | "unassigned" | "all";
type StatusFilter = "open" | "closed";

const STATUSES: Array<{ id: StatusFilter; label: string }> = [
  { id: "open", label: "Open" },
  { id: "closed", label: "Resolved" },
];

const TABS: Array<{ id: Tab; label: string }> = [
  { id: "mine", label: "Mine" },
  { id: "unassigned", label: "Unassigned" },
  { id: "all", label: "All" },
];

function inTab(c: ConversationSummary, tab: Tab, me: string | null): boolean {
  if (c.kind !== "support") return false;
  // A visitor who filled in the form but has not written yet has nothing for an operator to answer.
  if (c.lastMessage === null) return false;
  if (tab === "mine") return c.members.some((m) => m.userId === me);
  if (tab === "unassigned") return !isAssigned(c);
  return true;
}

/** The visitor and the conversation's details, beside the thread. */
function DetailsPanel({ conversationId, summary, onClose }: { conversationId: string; summary: ConversationSummary | undefined; onClose: () => void }) {
  const { conversation, members } = useConversation(conversationId);
  const visitor = summary ? visitorOf(summary) : (members[0] ?? null);
  const operators = (summary?.members ?? members).filter((m) => m.userId !== visitor?.userId);
  const metadata = conversation?.metadata ?? summary?.metadata ?? {};
  const email = typeof metadata.email === "string" ? metadata.email : null;
  const page = typeof metadata.page === "string" ? metadata.page : null;
  const created = conversation?.createdAt ?? summary?.createdAt;
  return (
    <aside className="details" aria-label="Conversation details">
      {/* Over the thread on narrow screens, where it needs a way out that a phone has. */}
      <button type="button" className="icon-button details-close" aria-label="Close details" onClick={onClose}>
        <Icon name="close" size={18} />
      </button>
      {visitor && (
        <div className="details-visitor">
          <Avatar userId={visitor.userId} name={visitor.name} size={56} />
          <h3>{visitor.name}</h3>
          <p className="muted small">Visitor</p>
        </div>
      )}
      <dl className="details-list">
        <dt>Status</dt>
        <dd>{(conversation?.status ?? summary?.status) === "closed" ? "Resolved" : "Open"}</dd>
        <dt>Assigned to</dt>
        <dd>{operators.length > 0 ? operators.map((m) => m.name).join(", ") : "Nobody yet"}</dd>
        {email && (
          <>
            <dt>Email</dt>
            <dd>
              <a href={`mailto:${email}`}>{email}</a>
            </dd>
          </>
        )}
        {page && (
          <>
            <dt>Page</dt>
            <dd>{page}</dd>
          </>
        )}
        {created && (
          <>
            <dt>Started</dt>
            <dd>
              <time dateTime={created} title={new Date(created).toLocaleString()}>
                {relativeTime(created)}
              </time>
            </dd>
          </>
        )}
        <dt>Conversation</dt>
        <dd className="mono">{conversationId}</dd>
      </dl>
    </aside>
  );
}

/** The support desk: visitors' conversations in tabs Mine / Unassigned / All, open or resolved. */
export function DeskPage({ conversationId }: { conversationId: string | null }) {
  const { conversations } = useInbox();
  const { user } = useConnection();
  const me = user?.id ?? null;
  const [tab, setTab] = useState<Tab>("mine");
  const [status, setStatus] = useState<StatusFilter>("open");
  const [details, setDetails] = useState(false);
  const shown = (c: ConversationSummary, t: Tab) => inTab(c, t, me) && c.status === status;
  const filter = (c: ConversationSummary) => shown(c, tab);
  const count = (t: Tab) => conversations.filter((c) => shown(c, t)).length;
  /** Conversations of the tab with messages the operator has not read. */
  const unread = (t: Tab) => conversations.filter((c) => shown(c, t) && c.unreadCount > 0).length;
  const summary = conversations.find((c) => c.id === conversationId);

  const onTabKey = (e: KeyboardEvent<HTMLButtonElement>, index: number) => {
    if (e.key !== "ArrowRight" && e.key !== "ArrowLeft") return;
    e.preventDefault();
    const next = TABS[(index + (e.key === "ArrowRight" ? 1 : TABS.length - 1)) % TABS.length]!;
    setTab(next.id);
    document.getElementById(`desk-tab-${next.id}`)?.focus();
  };

  return (
    <div className="split desk" data-open={conversationId ? "conversation" : "list"}>
      <aside className="sidebar" aria-label="Support desk">
        <div className="sidebar-head">
          <h1>Support desk</h1>
          <div className="segmented" role="radiogroup" aria-label="Status">
            {STATUSES.map((st) => (
              <button
                key={st.id}
                type="button"
                role="radio"
                aria-checked={status === st.id}
                tabIndex={status === st.id ? 0 : -1}
                className="segment"
                onClick={() => setStatus(st.id)}
                onKeyDown={(e) => {
                  if (e.key !== "ArrowRight" && e.key !== "ArrowLeft" && e.key !== "ArrowUp" && e.key !== "ArrowDown") return;
                  e.preventDefault();
                  const next = status === "open" ? "closed" : "open";
                  setStatus(next);
                  (e.currentTarget.parentElement?.querySelector(`[data-status="${next}"]`) as HTMLElement | null)?.focus();
                }}
                data-status={st.id}
              >
                {st.label}
              </button>
            ))}
          </div>
        </div>
        <div className="tabs" role="tablist" aria-label="Conversations to show">
          {TABS.map((t, index) => {
            // The badge counts the tab's conversations, always; it stands out while any of them has unread messages.
            const n = count(t.id);
            const waiting = unread(t.id);
            return (
              <button
                key={t.id}
                id={`desk-tab-${t.id}`}
                type="button"
                role="tab"
                aria-label={t.label}
                aria-describedby={`desk-tab-${t.id}-count`}
                aria-selected={tab === t.id}
                aria-controls="desk-panel"
                tabIndex={tab === t.id ? 0 : -1}
                className="tab"
                onClick={() => setTab(t.id)}
                onKeyDown={(e) => onTabKey(e, index)}
              >
                {t.label}
                <span className="tab-count" data-unread={waiting > 0} aria-hidden="true">
                  {badge(n)}
                </span>
                <span id={`desk-tab-${t.id}-count`} className="sr-only">
                  {`${n} ${n === 1 ? "conversation" : "conversations"}`}
                  {waiting > 0 ? `, ${waiting} unread` : ""}
                </span>
              </button>
            );
          })}
        </div>
        <div id="desk-panel" role="tabpanel" aria-labelledby={`desk-tab-${tab}`} className="tab-panel">
          <ConversationList
            selectedId={conversationId}
            onSelect={(id) => navigate(conversationPath(id, true))}
            filter={filter}
            emptyText={
              <span className="sidebar-note">
                {tab === "mine" ? "Nothing assigned to you" : tab === "unassigned" ? "Every conversation has someone" : "No conversations"}
                {status === "closed" ? " among resolved ones." : "."}
              </span>
            }
          />
        </div>
      </aside>
      <main className="main-pane desk-main">
        {conversationId ? (
          <div
            className="desk-thread"
            data-details={details ? "open" : "closed"}
            onKeyDown={(e) => {
              if (e.key === "Escape" && details && !e.defaultPrevented) setDetails(false);
            }}
          >
            <ConversationView
              key={conversationId}
              conversationId={conversationId}
              onBack={() => goBack("/desk")}
              headerExtra={
                <button type="button" className="button subtle details-toggle" aria-expanded={details} onClick={() => setDetails(!details)}>
                  Details
                </button>
              }
            />
            <DetailsPanel conversationId={conversationId} summary={summary} onClose={() => setDetails(false)} />
          </div>
        ) : (
          <div className="empty-state">
            <div className="empty-illustration" aria-hidden="true">
              <Icon name="headset" size={36} />
            </div>
            <p className="empty-title">Pick a conversation</p>
            <p className="muted">Visitors&apos; chats show here as they come in.</p>
          </div>
        )}
      </main>
    </div>
  );
}
