import { useEffect, useState } from "react";
import { createParleyClient } from "@parley/client";
import { ConnectionBanner, ParleyProvider, useConnection, useParley } from "@parley/react";
import { useAttention } from "../attention/use-attention.js";
import { conversationPath, navigate, type Route } from "../app/router.js";
import { AppHeader } from "./app-header.js";
import { DeskPage } from "./desk-page.js";
import { InboxPage } from "./inbox-page.js";
import { isOperator } from "./conversation-info.js";

/** Why the server refused the token, for the sign-in page. */
function refusal(reason: unknown): string {
  if (reason === "expired") return "Your session has expired. Sign in again.";
  if (reason === "missing") return "Sign in to continue.";
  return "That token was not accepted. Sign in again.";
}

/** The pages for a signed-in user. */
export type SignedInRoute = Extract<Route, { page: "inbox" | "desk" | "channels" | "new-message" }>;

function Shell({ route, onSignOut }: { route: SignedInRoute; onSignOut: (notice: string | null) => void }) {
  const { status, error, user } = useConnection();
  const client = useParley();
  const conversationId = route.page === "channels" || route.page === "new-message" ? null : route.conversationId;
  useAttention(client, conversationId, (id) => navigate(conversationPath(id, route.page === "desk")));

  useEffect(() => {
    if (status === "disconnected" && error?.code === "unauthenticated") onSignOut(refusal(error.details?.reason));
  }, [status, error, onSignOut]);

  const desk = route.page === "desk" && isOperator(user?.roles);
  return (
    <div className="app">
      <AppHeader page={desk ? "desk" : "inbox"} onSignOut={() => onSignOut(null)} />
      <ConnectionBanner className="connection-banner" />
      <div className="app-body">
        {route.page === "desk" && !user ? (
          <div className="empty-state muted">Connecting…</div>
        ) : route.page === "desk" && !desk ? (
          <div className="empty-state">
            <p className="empty-title">The support desk is for operators</p>
          </div>
        ) : desk ? (
          <DeskPage conversationId={conversationId} />
        ) : (
          <InboxPage
            conversationId={conversationId}
            side={route.page === "channels" ? "channels" : route.page === "new-message" ? "new-message" : null}
          />
        )}
      </div>
    </div>
  );
}

/** The app for a signed-in user: one client for the token, closed on sign-out. */
export function SignedInApp(props: {
  token: string;
  route: SignedInRoute;
  onSignOut: (notice: string | null) => void;
}) {
  const { token, route, onSignOut } = props;
  const [client] = useState(() => createParleyClient({ url: window.location.origin, token }));
  useEffect(() => () => client.close(), [client]);
  return (
    <ParleyProvider client={client}>
      <Shell route={route} onSignOut={onSignOut} />
    </ParleyProvider>
  );
}
