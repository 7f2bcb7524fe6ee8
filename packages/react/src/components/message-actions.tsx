import { useEffect, useLayoutEffect, useRef, useState, type KeyboardEvent, type ReactNode } from "react";

/** One entry of a {@link Menu}. */
export interface MenuItem {
  label: string;
  /** Shown instead of the label (the label stays the accessible name). */
  content?: ReactNode;
  onSelect(): void;
  danger?: boolean;
}

/**
 * A button that opens a menu: arrow keys move, Enter picks, Esc or a click
 * elsewhere closes it, and focus goes back to the button.
 */
export function Menu(props: {
  label: string;
  title?: string;
  icon: ReactNode;
  items: MenuItem[];
  className?: string;
  menuClassName?: string;
  onOpenChange?: (open: boolean) => void;
  /** -1 leaves the button out of the Tab order (a mouse shortcut for what another control offers). @default 0 */
  tabIndex?: number;
}) {
  const { label, title, icon, items, className, menuClassName, onOpenChange, tabIndex } = props;
  const [open, setOpen] = useState(false);
  const [up, setUp] = useState(false);
  // Sideways shift (px) that keeps an open menu inside the list and the window (a narrow phone screen).
  const [shift, setShift] = useState(0);
  const wrap = useRef<HTMLSpanElement>(null);
  const button = useRef<HTMLButtonElement>(null);
  const menu = useRef<HTMLDivElement>(null);

  const change = (next: boolean, refocus = false) => {
    setOpen(next);
    onOpenChange?.(next);
    if (!next && refocus) button.current?.focus();
  };

  useLayoutEffect(() => {
    if (!open) {
      setUp(false);
      setShift(0);
      return;
    }
    // Open upwards when the menu would run past the bottom of the list (or the window) and there is more room above.
    const el = menu.current;
    const anchor = button.current;
    if (!el || !anchor) return;
    const box = anchor.closest(".parley-scroll")?.getBoundingClientRect() ?? { top: 0, bottom: window.innerHeight };
    const at = anchor.getBoundingClientRect();
    const height = el.getBoundingClientRect().height;
    const below = box.bottom - at.bottom;
    const above = at.top - box.top;
    setUp(below < height + 8 && above > below);
    // And sideways: within the list and the window, with a small margin.
    const menuBox = el.getBoundingClientRect();
    const list = anchor.closest(".parley-scroll")?.getBoundingClientRect();
    const left = Math.max(list?.left ?? 0, 0) + 4;
    const right = Math.min(list?.right ?? window.innerWidth, window.innerWidth) - 4;
    if (menuBox.right > right) setShift(Math.max(right - menuBox.right, left - menuBox.left));
    else if (menuBox.left < left) setShift(left - menuBox.left);
  }, [open]);

  useEffect(() => {
    if (!open) return;
    menu.current?.querySelector<HTMLElement>("[role=menuitem]")?.focus({ preventScroll: true });
    const onDown = (e: MouseEvent) => {
      if (!wrap.current?.contains(e.target as Node)) {
        setOpen(false);
        onOpenChange?.(false);
      }
    };
    document.addEventListener("mousedown", onDown);
    return () => document.removeEventListener("mousedown", onDown);
  }, [open, onOpenChange]);

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const entries = [...(menu.current?.querySelectorAll<HTMLElement>("[role=menuitem]") ?? [])];
    const at = entries.indexOf(document.activeElement as HTMLElement);
    if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      change(false, true);
    } else if (e.key === "ArrowDown" || e.key === "ArrowRight") {
      e.preventDefault();
      entries[(at + 1) % entries.length]?.focus();
    } else if (e.key === "ArrowUp" || e.key === "ArrowLeft") {
      e.preventDefault();
      entries[(at - 1 + entries.length) % entries.length]?.focus();
    } else if (e.key === "Tab") {
      change(false);
    }
  };

  return (
    <span ref={wrap} className={`parley-menu-wrap${className ? ` ${className}` : ""}`}>
      <button
        ref={button}
        type="button"
        className="parley-action"
        aria-label={label}
        title={title ?? label}
        aria-haspopup="menu"
        aria-expanded={open}
        tabIndex={tabIndex}
        onClick={() => change(!open)}
      >
        {icon}
      </button>
      {open && (
        <div
          ref={menu}
          role="menu"
          aria-label={label}
          className={`parley-menu${up ? " parley-menu-up" : ""}${menuClassName ? ` ${menuClassName}` : ""}`}
          style={shift !== 0 ? { transform: `translateX(${shift}px)` } : undefined}
          onKeyDown={onKeyDown}
        >
          {items.map((item) => (
            <button
              key={item.label}
              type="button"
              role="menuitem"
              tabIndex={-1}
              aria-label={item.content ? item.label : undefined}
              title={item.content ? item.label : undefined}
              className={`parley-menu-item${item.danger ? " parley-danger" : ""}`}
              onClick={() => {
                change(false, true);
                item.onSelect();
              }}
            >
              {item.content ?? item.label}
            </button>
          ))}
        </div>
      )}
    </span>
  );
}
