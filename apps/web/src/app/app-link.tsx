import type { AnchorHTMLAttributes, MouseEvent } from "react";
import { navigate } from "./router.js";

/**
 * A link to a page of the app: a plain click moves there without a reload;
 * Ctrl/⌘/Shift-click and the middle button keep the browser's behaviour
 * (a new tab or window).
 */
export function AppLink({ href, onClick, ...rest }: AnchorHTMLAttributes<HTMLAnchorElement> & { href: string }) {
  const go = (e: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(e);
    if (e.defaultPrevented || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey || e.button !== 0) return;
    e.preventDefault();
    navigate(href);
  };
  return <a href={href} onClick={go} {...rest} />;
}
