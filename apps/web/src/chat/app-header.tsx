import type { ReactNode } from "react";
import { Avatar, useConnection, useInbox } from "@parley/react";
import { SettingsMenu } from "../attention/settings-menu.js";
import { AppLink } from "../app/app-link.js";
import { isOperator } from "./conversation-info.js";

function NavLink({ href, current, children }: { href: string; current: boolean; children: ReactNode }) {
  return (
    <AppLink href={href} className="nav-link" aria-current={current ? "page" : undefined}>
      {children}
    </AppLink>
  );
}

/** The bar at the top: Parley, Inbox and Desk, settings, who is signed in and Sign out. */
export function AppHeader({ page, onSignOut }: { page: "inbox" | "desk"; onSignOut: () => void }) {
  const { user } = useConnection();
  const { totalUnread } = useInbox();
  return (
    <header className="app-header">
      <div className="brand" aria-label="Parley">
        <span className="brand-mark" aria-hidden="true">
          P
        </span>
        <span className="brand-name">Parley</span>
      </div>
      <nav className="app-nav" aria-label="Main">
        <NavLink href="/" current={page === "inbox"}>
          Inbox
          {totalUnread > 0 && page !== "inbox" && <span className="nav-badge">{totalUnread > 99 ? "99+" : totalUnread}</span>}
        </NavLink>
        {isOperator(user?.roles) && (
          <NavLink href="/desk" current={page === "desk"}>
            Desk
          </NavLink>
        )}
      </nav>
      <div className="header-end">
        <SettingsMenu />
        {user && (
          <span className="me" title={user.name}>
            <Avatar userId={user.id} name={user.name} size={28} />
            <span className="me-name">{user.name}</span>
          </span>
        )}
        <button type="button" className="button subtle" onClick={onSignOut}>
          Sign out
        </button>
      </div>
    </header>
  );
}
