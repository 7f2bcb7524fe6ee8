import { useEffect, useState, type ReactNode } from "react";
import type { Message } from "@parley/protocol";
import { conversationTitle, relativeTime, useConnection, useInbox, useNow, useParley } from "@parley/react";
import { conversationPath, navigate } from "../app/router.js";
import { showMessage } from "./message-focus.js";

/** Words shorter than this are not searched for (every message would match). */
export const MIN_SEARCH_LENGTH = 2;
/** How long typing must pause before the search is sent. */
const DEBOUNCE_MS = 300;
const LIMIT = 20;

interface SearchResult {
  message: Message;
  snippet: string;
}

type State =
  | { status: "searching" }
  | { status: "done"; query: string; results: SearchResult[] }
  | { status: "error"; message: string };

/** A snippet as the server marks it (matches between `**`), the matches in `<mark>`. */
export function markedSnippet(snippet: string): ReactNode[] {
  return snippet.split("**").map((part, i) => (i % 2 === 1 ? <mark key={i}>{part}</mark> : part));
}

/**
 * The messages that match what is typed in the inbox's search box, newest
 * first, in every conversation the user may read (`GET /v1/search`); a
 * click opens the conversation at the message.
 */
export function MessageSearch({ query }: { query: string }) {
  const client = useParley();
  const { conversations } = useInbox();
  const { user } = useConnection();
  const now = useNow();
  const [state, setState] = useState<State>({ status: "searching" });

  useEffect(() => {
    let live = true;
    setState({ status: "searching" });
    const timer = setTimeout(() => {
      client.api<{ results: SearchResult[] }>("GET", `/v1/search?q=${encodeURIComponent(query)}&limit=${LIMIT}`).then(
        ({ results }) => live && setState({ status: "done", query, results }),
        (err: unknown) => live && setState({ status: "error", message: err instanceof Error ? err.message : String(err) }),
      );
    }, DEBOUNCE_MS);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [client, query]);

  const titleOf = (conversationId: string) => {
    const summary = conversations.find((c) => c.id === conversationId);
    return summary ? conversationTitle(summary, user?.id ?? null) : "A conversation";
  };
  const open = ({ message }: SearchResult) => {
    showMessage(message.conversationId, { messageId: message.id, seq: message.seq });
    navigate(conversationPath(message.conversationId));
  };

  return (
    <section className="message-search" aria-label="Messages found">
      <h2 className="message-search-title">Messages</h2>
      {state.status === "searching" && <p className="sidebar-note">Searching messages…</p>}
      {state.status === "error" && (
        <p className="sidebar-note" role="alert">
          Messages could not be searched: {state.message}
        </p>
      )}
      {state.status === "done" && state.results.length === 0 && <p className="sidebar-note">No message matches</p>}
      {state.status === "done" && state.results.length > 0 && (
        <ul className="message-search-results">
          {state.results.map((result) => {
            const { message } = result;
            return (
              <li key={message.id}>
                <button type="button" className="message-search-result" onClick={() => open(result)}>
                  <span className="message-search-head">
                    <span className="message-search-conversation">{titleOf(message.conversationId)}</span>
                    <time dateTime={message.createdAt} title={new Date(message.createdAt).toLocaleString()}>
                      {relativeTime(message.createdAt, now)}
                    </time>
                  </span>
                  <span className="message-search-snippet" dir="auto">
                    <span className="message-search-sender">{message.senderId === user?.id ? "You" : message.senderName}: </span>
                    {markedSnippet(result.snippet)}
                  </span>
                </button>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
