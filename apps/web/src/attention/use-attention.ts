import { useEffect, useRef } from "react";
import type { ParleyClient } from "@parley/client";
import type { ConversationSummary } from "@parley/protocol";
import { conversationTitle, messagePreview } from "@parley/react";
import { attentionSettings } from "./attention-settings.js";
import { beep, unlockSound } from "./beep.js";

const BASE_TITLE = "Parley";

/**
 * Gets the user's attention for messages from others: "(N) Parley" in the
 * title while the tab is hidden, a short sound (while hidden, or for another
 * conversation than the open one), and a desktop notification while hidden
 * when the user allowed them. Never for the user's own messages.
 */
export function useAttention(client: ParleyClient, openConversationId: string | null, onOpen: (conversationId: string) => void): void {
  const openRef = useRef(openConversationId);
  openRef.current = openConversationId;
  const onOpenRef = useRef(onOpen);
  onOpenRef.current = onOpen;

  useEffect(() => {
    const updateTitle = () => {
      const unread = client.inbox.getSnapshot().totalUnread;
      document.title = document.visibilityState === "hidden" && unread > 0 ? `(${unread}) ${BASE_TITLE}` : BASE_TITLE;
    };
    const seen = new Map<string, number>();
    let primed = false;
    const check = () => {
      updateTitle();
      const { conversations, status } = client.inbox.getSnapshot();
      if (status !== "ready") return;
      const me = client.user?.id ?? null;
      const fresh: ConversationSummary[] = [];
      for (const c of conversations) {
        const last = c.lastMessage;
        const before = seen.get(c.id);
        if (last) seen.set(c.id, Math.max(before ?? 0, last.seq));
        if (!primed || !last || last.senderId === me || last.type === "system" || last.deletedAt) continue;
        if (before !== undefined && last.seq <= before) continue;
        if (before === undefined && c.unreadCount === 0) continue;
        fresh.push(c);
      }
      primed = true;
      if (fresh.length === 0) return;
      const hidden = document.visibilityState === "hidden";
      const settings = attentionSettings();
      const elsewhere = fresh.some((c) => c.id !== openRef.current);
      if (settings.sound && (hidden || elsewhere)) beep();
      if (settings.notifications && hidden && typeof Notification !== "undefined" && Notification.permission === "granted") {
        for (const c of fresh.slice(0, 3)) {
          const title = conversationTitle(c, me);
          const n = new Notification(c.kind === "direct" ? title : `${c.lastMessage!.senderName} · ${title}`, {
            body: messagePreview(c.lastMessage, me, true),
            tag: c.id,
          });
          n.onclick = () => {
            window.focus();
            onOpenRef.current(c.id);
            n.close();
          };
        }
      }
    };
    check();
    const unsubscribe = client.inbox.subscribe(check);
    document.addEventListener("visibilitychange", updateTitle);
    window.addEventListener("pointerdown", unlockSound, { once: true });
    return () => {
      unsubscribe();
      document.removeEventListener("visibilitychange", updateTitle);
      window.removeEventListener("pointerdown", unlockSound);
      document.title = BASE_TITLE;
    };
  }, [client]);
}
