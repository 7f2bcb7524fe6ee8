import { useEffect, useRef } from "react";
import type { Attachment } from "@parley/protocol";
import { Icon } from "./icon.js";

/** Props of {@link ImageViewer}. */
export interface ImageViewerProps {
  attachment: Attachment;
  onClose: () => void;
}

/**
 * An image shown over the page: Esc, the Close button or a click outside the
 * image closes it, and focus returns where it was.
 */
export function ImageViewer({ attachment, onClose }: ImageViewerProps) {
  const close = useRef<HTMLButtonElement>(null);
  const dialog = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const before = document.activeElement as HTMLElement | null;
    close.current?.focus();
    const onKey = (e: globalThis.KeyboardEvent) => {
      if (e.key === "Escape") {
        e.preventDefault();
        onClose();
      } else if (e.key === "Tab") {
        // Focus stays in the viewer while it is open.
        const items = [...(dialog.current?.querySelectorAll<HTMLElement>("a, button") ?? [])];
        const at = items.indexOf(document.activeElement as HTMLElement);
        const next = e.shiftKey ? (at <= 0 ? items.length - 1 : at - 1) : at === items.length - 1 ? 0 : at + 1;
        e.preventDefault();
        items[next]?.focus();
      }
    };
    document.addEventListener("keydown", onKey);
    return () => {
      document.removeEventListener("keydown", onKey);
      before?.focus?.();
    };
  }, [onClose]);
  return (
    <div
      ref={dialog}
      className="parley-viewer"
      role="dialog"
      aria-modal="true"
      aria-label={attachment.name}
      onClick={(e) => {
        if (e.target === e.currentTarget) onClose();
      }}
    >
      <div className="parley-viewer-bar">
        <span className="parley-viewer-name">{attachment.name}</span>
        <a href={attachment.url} target="_blank" rel="noopener noreferrer" download={attachment.name}>
          Download
        </a>
        <button ref={close} type="button" aria-label="Close image" onClick={onClose}>
          <Icon name="close" />
        </button>
      </div>
      <img src={attachment.url} alt={attachment.name} />
    </div>
  );
}
