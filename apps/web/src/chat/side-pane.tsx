import type { KeyboardEvent, ReactNode, RefObject } from "react";
import { Icon } from "@parley/react";

/**
 * A pane that takes the conversation's place beside the inbox (the channel
 * directory, "New message"): a header with Back, a mark, a title and a
 * line under it; Esc goes back. On phones it is a screen of its own.
 */
export function SidePane(props: {
  titleId: string;
  title: string;
  subtitle: string;
  /** The mark beside the title ("#", an icon). */
  mark: ReactNode;
  onBack: () => void;
  /** The title, to put the focus on when the pane opens. */
  headingRef?: RefObject<HTMLHeadingElement | null>;
  children: ReactNode;
}) {
  const { titleId, title, subtitle, mark, onBack, headingRef, children } = props;
  return (
    <section
      className="conversation channel-browser"
      aria-labelledby={titleId}
      onKeyDown={(e) => {
        if (e.key === "Escape" && !e.defaultPrevented) onBack();
      }}
    >
      <header className="conversation-header">
        <button type="button" className="icon-button back-button" aria-label="Back" onClick={onBack}>
          <Icon name="back" size={20} />
        </button>
        <span className="parley-avatar parley-channel-avatar header-avatar" aria-hidden="true">
          {mark}
        </span>
        <div className="conversation-heading">
          <h2 id={titleId} ref={headingRef} tabIndex={headingRef ? -1 : undefined}>
            {title}
          </h2>
          <div className="conversation-subtitle">
            <span className="presence-line">{subtitle}</span>
          </div>
        </div>
      </header>
      {children}
    </section>
  );
}

/** Arrow keys, Home and End move between the rows' buttons (`.channel-action`) of a pane's list. */
export function moveFocus(e: KeyboardEvent<HTMLUListElement>): void {
  if (!["ArrowDown", "ArrowUp", "Home", "End"].includes(e.key)) return;
  const buttons = [...e.currentTarget.querySelectorAll<HTMLButtonElement>(".channel-action")];
  if (buttons.length === 0) return;
  e.preventDefault();
  const at = buttons.findIndex((b) => b === document.activeElement || b.closest("li")?.contains(document.activeElement));
  const last = buttons.length - 1;
  const next = e.key === "Home" ? 0 : e.key === "End" ? last : e.key === "ArrowDown" ? Math.min(last, at + 1) : Math.max(0, at - 1);
  buttons[next]?.focus();
}
