import { useCallback, useEffect, useRef, useState } from "react";
import { ParleyClientError } from "@parley/client";
import type { Conversation } from "@parley/protocol";
import { relativeTime, useInbox, useNow, useParley } from "@parley/react";
import { conversationPath, navigate } from "../app/router.js";
import { SidePane, moveFocus } from "./side-pane.js";

/** One open channel as `GET /v1/channels` lists it. */
export interface ChannelListing {
  conversation: Conversation;
  memberCount: number;
  /** The signed-in user is a member. */
  joined: boolean;
}

interface ChannelPage {
  channels: ChannelListing[];
  nextCursor: string | null;
}

const PAGE_SIZE = 30;

function errorText(err: unknown): string {
  if (err instanceof ParleyClientError && err.code === "forbidden") return "Channels are for members. Guests can't browse them.";
  return err instanceof Error ? err.message : String(err);
}

/** `12 members`, `1 member`. */
export function memberCountText(count: number): string {
  return `${count} ${count === 1 ? "member" : "members"}`;
}

/** "active now", "active 5 min ago", "active 3 h ago", "active yesterday", "active 21 November". */
export function activityText(iso: string, now: Date): string {
  const when = relativeTime(iso, now);
  if (when === "now") return "active now";
  if (/^\d+ (min|h)$/.test(when)) return `active ${when} ago`;
  return `active ${when === "Yesterday" ? "yesterday" : when}`;
}

/**
 * The channel directory (`/channels`): open channels with their member
 * counts, newest activity first, to join or open. On phones it is a screen
 * of its own with Back.
 */
export function ChannelBrowser({ onBack }: { onBack: () => void }) {
  const client = useParley();
  const { conversations } = useInbox();
  const now = useNow();
  const [channels, setChannels] = useState<ChannelListing[]>([]);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [status, setStatus] = useState<"loading" | "ready" | "error">("loading");
  const [loadError, setLoadError] = useState<string | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const [moreError, setMoreError] = useState<string | null>(null);
  const [joining, setJoining] = useState<string | null>(null);
  const [joinError, setJoinError] = useState<{ id: string; message: string } | null>(null);
  const headingRef = useRef<HTMLHeadingElement>(null);
  const live = useRef(true);

  const fetchPage = useCallback(
    (cursor: string | null) => {
      const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
      if (cursor) query.set("cursor", cursor);
      return client.api<ChannelPage>("GET", `/v1/channels?${query.toString()}`);
    },
    [client],
  );

  const loadFirst = useCallback(() => {
    setStatus("loading");
    setLoadError(null);
    fetchPage(null).then(
      (page) => {
        if (!live.current) return;
        setChannels(page.channels);
        setNextCursor(page.nextCursor);
        setStatus("ready");
      },
      (err: unknown) => {
        if (!live.current) return;
        setLoadError(errorText(err));
        setStatus("error");
      },
    );
  }, [fetchPage]);

  useEffect(() => {
    live.current = true;
    loadFirst();
    return () => {
      live.current = false;
    };
  }, [loadFirst]);

  // Coming from "Browse channels" (where that button may now be hidden), focus lands on this view.
  useEffect(() => {
    headingRef.current?.focus({ preventScroll: true });
  }, []);

  const loadMore = () => {
    if (!nextCursor || loadingMore) return;
    setLoadingMore(true);
    setMoreError(null);
    fetchPage(nextCursor)
      .then(
        (page) => {
          if (!live.current) return;
          // Activity may have moved a channel between pages: keep each once.
          setChannels((known) => {
            const seen = new Set(known.map((c) => c.conversation.id));
            return [...known, ...page.channels.filter((c) => !seen.has(c.conversation.id))];
          });
          setNextCursor(page.nextCursor);
        },
        (err: unknown) => live.current && setMoreError(errorText(err)),
      )
      .finally(() => live.current && setLoadingMore(false));
  };

  const join = (id: string) => {
    setJoining(id);
    setJoinError(null);
    client
      .conversation(id)
      .join()
      .then(
        () => navigate(conversationPath(id)),
        (err: unknown) => {
          if (!live.current) return;
          setJoining(null);
          setJoinError({ id, message: errorText(err) });
        },
      );
  };

  const inInbox = new Set(conversations.map((c) => c.id));

  return (
    <SidePane
      titleId="channel-browser-title"
      title="Browse channels"
      subtitle="Open channels you can join"
      mark="#"
      onBack={onBack}
      headingRef={headingRef}
    >
      <div className="channel-browser-body">
        {status === "loading" && <p className="sidebar-note">Loading channels…</p>}
        {status === "error" && (
          <div className="empty-state">
            <p role="alert">{loadError}</p>
            <button type="button" className="button" onClick={loadFirst}>
              Try again
            </button>
          </div>
        )}
        {status === "ready" && channels.length === 0 && (
          <div className="empty-state">
            <div className="empty-illustration" aria-hidden="true">
              #
            </div>
            <p className="empty-title">No channels yet</p>
            <p className="muted">When someone opens a channel, it shows up here.</p>
          </div>
        )}
        {status === "ready" && channels.length > 0 && (
          <ul className="channel-list" aria-label="Channels" onKeyDown={moveFocus}>
            {channels.map(({ conversation, memberCount, joined: listedJoined }) => {
              const id = conversation.id;
              const title = conversation.title ?? "Untitled channel";
              const joined = listedJoined || inInbox.has(id);
              const busy = joining === id;
              const active = conversation.lastMessageAt;
              return (
                <li key={id} className="channel-row" data-joined={joined}>
                  <span className="parley-avatar parley-channel-avatar" aria-hidden="true">
                    #
                  </span>
                  <span className="channel-text">
                    <span className="channel-title">{title}</span>
                    <span className="channel-meta">
                      <span>{memberCountText(memberCount)}</span>
                      {active && (
                        <>
                          <span aria-hidden="true">·</span>
                          <time dateTime={active} title={new Date(active).toLocaleString()}>
                            {activityText(active, now)}
                          </time>
                        </>
                      )}
                      {joined && <span className="tag tag-muted">Joined</span>}
                    </span>
                    {joinError?.id === id && (
                      <span className="action-error" role="alert">
                        {joinError.message}
                      </span>
                    )}
                  </span>
                  {joined ? (
                    <button type="button" className="button channel-action" aria-label={`Open ${title}`} onClick={() => navigate(conversationPath(id))}>
                      Open
                    </button>
                  ) : (
                    <button
                      type="button"
                      className="button primary channel-action"
                      aria-label={`Join ${title}`}
                      disabled={joining !== null}
                      aria-busy={busy}
                      onClick={() => join(id)}
                    >
                      {busy ? "Joining…" : "Join"}
                    </button>
                  )}
                </li>
              );
            })}
          </ul>
        )}
        {moreError && (
          <p className="action-error channel-list-error" role="alert">
            {moreError}
          </p>
        )}
        {status === "ready" && nextCursor && (
          <button type="button" className="parley-load-older" disabled={loadingMore} onClick={loadMore}>
            {loadingMore ? "Loading…" : "Load more"}
          </button>
        )}
      </div>
    </SidePane>
  );
}
