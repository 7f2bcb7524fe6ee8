import { useEffect, useState, type FormEvent } from "react";
import { createParleyClient, type ParleyClient } from "@parley/client";
import { ConnectionBanner, ParleyProvider, useConnection, useParley } from "@parley/react";
import { postJson, type ServerInfo } from "../app/server-info.js";
import { SupportAvailability, useSupportAvailability } from "../chat/support-availability.js";
import { forgetGuest, guestTokenExpiring, storedGuest, storeGuest, type GuestSession } from "../app/session.js";
import { ConversationView } from "../chat/conversation-view.js";

function PreChatForm({ onStarted }: { onStarted: (guest: GuestSession) => void }) {
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const trimmed = name.trim();
    if (!trimmed) return;
    setBusy(true);
    setError(null);
    try {
      const { token, expiresAt } = await postJson<{ token: string; expiresAt: string | null }>("/v1/guests", { name: trimmed });
      const guest: GuestSession = { token, expiresAt, name: trimmed, conversationId: null, ...(email.trim() ? { email: email.trim() } : {}) };
      storeGuest(guest);
      onStarted(guest);
    } catch (err) {
      setError((err as Error).message);
      setBusy(false);
    }
  };
  return (
    <form className="stack" onSubmit={(e) => void submit(e)}>
      <label className="field">
        <span>Your name</span>
        <input value={name} onChange={(e) => setName(e.target.value)} autoComplete="name" required maxLength={100} />
      </label>
      <label className="field">
        <span>
          Email <span className="muted">(optional)</span>
        </span>
        <input type="email" aria-label="Email" value={email} onChange={(e) => setEmail(e.target.value)} autoComplete="email" maxLength={200} />
      </label>
      {error && (
        <p className="notice" role="alert">
          {error}
        </p>
      )}
      <button type="submit" className="button primary" disabled={busy || name.trim() === ""}>
        {busy ? "Starting…" : "Start chat"}
      </button>
    </form>
  );
}

/** Opens the visitor's support conversation (creating it the first time) and shows it. */
function VisitorChat({ guest, onReset }: { guest: GuestSession; onReset: () => void }) {
  const client = useParley();
  const { status, error } = useConnection();
  const [conversationId, setConversationId] = useState(guest.conversationId);
  const [failure, setFailure] = useState<string | null>(null);

  useEffect(() => {
    if (conversationId) return;
    let live = true;
    client
      .createConversation({ kind: "support", ...(guest.email ? { metadata: { email: guest.email, page: "/support" } } : { metadata: { page: "/support" } }) })
      .then(
        (conversation) => {
          // What is stored now: the token may have been renewed since this page got `guest`.
          storeGuest({ ...(storedGuest() ?? guest), conversationId: conversation.id });
          if (live) setConversationId(conversation.id);
        },
        (err: Error) => live && setFailure(err.message),
      );
    return () => {
      live = false;
    };
  }, [client, conversationId, guest]);

  useEffect(() => {
    if (status === "disconnected" && error?.code === "unauthenticated") onReset();
  }, [status, error, onReset]);

  /** A new conversation for the same visitor: their name is not asked again, and the team sees who came back. */
  const startNewChat = () => {
    storeGuest({ ...(storedGuest() ?? guest), conversationId: null });
    setConversationId(null);
  };

  if (failure) {
    return (
      <div className="empty-state">
        <p role="alert">{failure}</p>
        <button type="button" className="button" onClick={onReset}>
          Start again
        </button>
      </div>
    );
  }
  if (!conversationId) return <div className="empty-state muted">Starting your chat…</div>;
  return (
    <ConversationView
      key={conversationId}
      conversationId={conversationId}
      visitor
      emptyText={`Hi ${guest.name}! Tell us how we can help.`}
      closedNote={
        <>
          This conversation was resolved. Thanks for getting in touch!{" "}
          <button type="button" className="link-button" onClick={startNewChat}>
            Start a new chat
          </button>
        </>
      }
    />
  );
}

/** Whether anyone is there, before the visitor has a token. */
function PreChatAvailability() {
  return <SupportAvailability operatorsOnline={useSupportAvailability(null)} className="prechat-availability" />;
}

/** `/support`: a visitor's chat with the support team, kept in this browser. */
export function SupportPage({ info }: { info: ServerInfo | null }) {
  const [guest, setGuest] = useState<GuestSession | null>(() => storedGuest());
  const [client, setClient] = useState<ParleyClient | null>(null);

  useEffect(() => {
    if (!guest) return;
    // The visitor's token, renewed for the same visitor when it runs out (a visitor who comes back a day later
    // finds their conversation); when it can no longer be renewed, the chat starts afresh.
    const token = async (): Promise<string> => {
      const held = storedGuest() ?? guest;
      if (!guestTokenExpiring(held)) return held.token;
      const res = await fetch("/v1/guests", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name: held.name, renew: held.token }),
      });
      if (res.status === 401) {
        // Refused for good (another server's token, or too old): a new chat. Anything else is tried again later.
        forgetGuest();
        setGuest(null);
      }
      if (!res.ok) throw new Error(`Could not renew the visitor's session (${res.status})`);
      const renewed = (await res.json()) as { token: string; expiresAt: string | null };
      storeGuest({ ...held, token: renewed.token, expiresAt: renewed.expiresAt });
      return renewed.token;
    };
    const created = createParleyClient({ url: window.location.origin, getToken: token });
    setClient(created);
    return () => {
      created.close();
      setClient(null);
    };
  }, [guest]);

  const reset = () => {
    forgetGuest();
    setGuest(null);
  };

  if (!guest || !client) {
    return (
      <main className="centered-page support-page">
        <div className="card">
          <div className="brand brand-large" aria-hidden="true">
            <span className="brand-mark">P</span> Support
          </div>
          <h1>Chat with us</h1>
          {info && !info.guests ? (
            <p className="notice">Support chat isn&apos;t available on this server.</p>
          ) : (
            <>
              <p className="muted">Tell us your name and we&apos;ll be right with you.</p>
              <PreChatAvailability />
              <PreChatForm onStarted={setGuest} />
            </>
          )}
        </div>
      </main>
    );
  }
  return (
    <ParleyProvider client={client}>
      <div className="app support-app">
        <header className="app-header">
          <div className="brand">
            <span className="brand-mark" aria-hidden="true">
              P
            </span>
            <span className="brand-name">Support</span>
          </div>
          <div className="header-end">
            <span className="muted small">Chatting as {guest.name}</span>
          </div>
        </header>
        <ConnectionBanner className="connection-banner" />
        <div className="app-body support-body">
          <VisitorChat guest={guest} onReset={reset} />
        </div>
      </div>
    </ParleyProvider>
  );
}
