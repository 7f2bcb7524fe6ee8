import { useEffect, useRef, useState, type KeyboardEvent } from "react";
import { Icon } from "@parley/react";
import { beep } from "./beep.js";
import { setAttentionSettings, useAttentionSettings } from "./attention-settings.js";

/** The header's settings: sound and desktop notifications, each on or off, kept in this browser. */
export function SettingsMenu() {
  const settings = useAttentionSettings();
  const [open, setOpen] = useState(false);
  const [permission, setPermission] = useState(() => (typeof Notification === "undefined" ? "unsupported" : Notification.permission));
  const wrap = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (!open) return;
    wrap.current?.querySelector<HTMLElement>("[role^=menuitem]")?.focus();
    const onDown = (e: MouseEvent) => {
      if (!wrap.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener("mousedown", onDown);
    return () => document.removeEventListener("mousedown", onDown);
  }, [open]);

  const onKeyDown = (e: KeyboardEvent) => {
    const items = [...(wrap.current?.querySelectorAll<HTMLElement>("[role^=menuitem]") ?? [])];
    const at = items.indexOf(document.activeElement as HTMLElement);
    if (e.key === "Escape") {
      e.preventDefault();
      setOpen(false);
      button.current?.focus();
    } else if (e.key === "ArrowDown") {
      e.preventDefault();
      items[(at + 1) % items.length]?.focus();
    } else if (e.key === "ArrowUp") {
      e.preventDefault();
      items[(at - 1 + items.length) % items.length]?.focus();
    } else if (e.key === "Tab") setOpen(false);
  };

  const toggleNotifications = async () => {
    const on = !settings.notifications;
    setAttentionSettings({ notifications: on });
    if (on && typeof Notification !== "undefined" && Notification.permission === "default") {
      setPermission(await Notification.requestPermission());
    }
  };

  return (
    <div className="menu-anchor" ref={wrap}>
      <button
        ref={button}
        type="button"
        className="icon-button"
        aria-label="Settings"
        title="Settings"
        aria-haspopup="menu"
        aria-expanded={open}
        onClick={() => setOpen(!open)}
      >
        <Icon name="settings" size={20} />
      </button>
      {open && (
        <div className="parley-menu settings-menu" role="menu" aria-label="Settings" onKeyDown={onKeyDown}>
          <button
            type="button"
            role="menuitemcheckbox"
            aria-checked={settings.sound}
            tabIndex={-1}
            className="parley-menu-item"
            onClick={() => {
              setAttentionSettings({ sound: !settings.sound });
              if (!settings.sound) beep();
            }}
          >
            <span className="check" aria-hidden="true">
              {settings.sound ? "✓" : ""}
            </span>
            Sound for new messages
          </button>
          <button
            type="button"
            role="menuitemcheckbox"
            aria-checked={settings.notifications}
            tabIndex={-1}
            className="parley-menu-item"
            onClick={() => void toggleNotifications()}
          >
            <span className="check" aria-hidden="true">
              {settings.notifications ? "✓" : ""}
            </span>
            Desktop notifications
          </button>
          {settings.notifications && permission === "denied" && <p className="menu-note">Notifications are blocked in this browser&apos;s site settings.</p>}
          {settings.notifications && permission === "default" && (
            <button
              type="button"
              role="menuitem"
              tabIndex={-1}
              className="parley-menu-item"
              onClick={() => void Notification.requestPermission().then(setPermission)}
            >
              <span className="check" aria-hidden="true" />
              Allow notifications in this browser…
            </button>
          )}
        </div>
      )}
    </div>
  );
}
