import { useCallback, useEffect, useLayoutEffect, useRef, useState, type RefObject } from "react";
import type { ChatMessage } from "@parley/client";

/** How close to the bottom (px) still counts as "at the bottom". */
const BOTTOM_SLACK_PX = 40;

/** What the scroll anchor tells the list. */
export interface ScrollAnchor {
  /** The bottom of the list is in view (as of the last render). */
  atBottom: boolean;
  /** The bottom of the list is in view right now (after any scrolling done since the last render). */
  isAtBottom(): boolean;
  /** Messages from others that arrived while the reader was scrolled up. */
  newCount: number;
  /** The bottom of the list is more than a screen below the view (the reader opened at unread messages, or scrolled up). */
  farFromBottom: boolean;
  /** Scrolls to the newest message and clears `newCount`. */
  scrollToBottom(): void;
  /** Call from the scroll container's `onScroll`. */
  onScroll(): void;
  /** Call when content above changed size (an image loaded). */
  onContentResize(): void;
}

function isAtBottom(el: HTMLElement): boolean {
  return el.scrollHeight - el.scrollTop - el.clientHeight <= BOTTOM_SLACK_PX;
}

function isFarFromBottom(el: HTMLElement): boolean {
  return el.clientHeight > 0 && el.scrollHeight - el.scrollTop - el.clientHeight > el.clientHeight;
}

/**
 * Keeps a message list where the reader wants it: at the bottom when they
 * are there (new messages scroll into view), put when they read history
 * (a "N new messages" count instead), in place when older messages load
 * above, and at the bottom after they send. With `follow` off, the list
 * shows a window of older messages (newer ones exist that are not on
 * show): pages added below it leave the view in place.
 */
export function useScrollAnchor(ref: RefObject<HTMLElement | null>, messages: readonly ChatMessage[], follow = true): ScrollAnchor {
  const [atBottom, setAtBottom] = useState(true);
  const [newCount, setNewCount] = useState(0);
  const [farFromBottom, setFarFromBottom] = useState(false);
  const atBottomRef = useRef(true);
  const previous = useRef<{ keys: string[]; height: number; top: number; follow: boolean } | null>(null);

  const scrollToBottom = useCallback(() => {
    const el = ref.current;
    if (!el) return;
    el.scrollTop = el.scrollHeight - el.clientHeight;
    atBottomRef.current = true;
    setAtBottom(true);
    setNewCount(0);
    setFarFromBottom(false);
  }, [ref]);

  const onScroll = useCallback(() => {
    const el = ref.current;
    if (!el) return;
    const bottom = isAtBottom(el);
    atBottomRef.current = bottom;
    setAtBottom(bottom);
    setFarFromBottom(isFarFromBottom(el));
    if (bottom) setNewCount(0);
    if (previous.current) previous.current = { ...previous.current, top: el.scrollTop, height: el.scrollHeight };
  }, [ref]);

  const onContentResize = useCallback(() => {
    const el = ref.current;
    if (!el) return;
    if (atBottomRef.current) el.scrollTop = el.scrollHeight - el.clientHeight;
  }, [ref]);

  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const keys = messages.map((m) => m.key);
    const before = previous.current;
    if (!before || before.keys.length === 0) {
      el.scrollTop = el.scrollHeight - el.clientHeight;
    } else {
      const oldFirst = before.keys[0];
      const oldLast = before.keys[before.keys.length - 1];
      const firstIndex = oldFirst === undefined ? -1 : keys.indexOf(oldFirst);
      if (firstIndex > 0) {
        // Older messages were added above: keep what the reader sees where it was.
        el.scrollTop = before.top + (el.scrollHeight - before.height);
      }
      const lastIndex = oldLast === undefined ? -1 : keys.indexOf(oldLast);
      const appended = lastIndex >= 0 ? messages.slice(lastIndex + 1) : [];
      if (!before.follow) {
        // The list showed a window of older messages: a page added below it leaves the view where it is, and
        // the newest messages put in its place (the reader jumped there, or sent) show from the bottom.
        if (follow && lastIndex < 0) scrollToBottom();
        else {
          const bottom = isAtBottom(el);
          atBottomRef.current = bottom;
          setAtBottom(bottom);
        }
      } else if (appended.length > 0) {
        if (appended.some((m) => m.own && m.seq === null)) scrollToBottom();
        else if (atBottomRef.current) el.scrollTop = el.scrollHeight - el.clientHeight;
        else setNewCount((n) => n + appended.filter((m) => !m.own).length);
      }
    }
    previous.current = { keys, height: el.scrollHeight, top: el.scrollTop, follow };
  }, [messages, ref, scrollToBottom, follow]);

  useEffect(() => {
    const el = ref.current;
    if (el) atBottomRef.current = isAtBottom(el);
  }, [ref]);

  // The list got shorter (the composer grew, an on-screen keyboard opened): a reader at the bottom stays there.
  useEffect(() => {
    const el = ref.current;
    if (!el || typeof ResizeObserver === "undefined") return;
    let height = el.clientHeight;
    const observer = new ResizeObserver(() => {
      if (el.clientHeight !== height && atBottomRef.current) el.scrollTop = el.scrollHeight - el.clientHeight;
      height = el.clientHeight;
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, [ref]);

  const isAtBottomNow = useCallback(() => atBottomRef.current, []);

  return { atBottom, isAtBottom: isAtBottomNow, newCount, farFromBottom, scrollToBottom, onScroll, onContentResize };
}
