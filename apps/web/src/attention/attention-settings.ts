import { useSyncExternalStore } from "react";

/** What the user chose about being alerted, kept in this browser. */
export interface AttentionSettings {
  sound: boolean;
  notifications: boolean;
}

const KEY = "parley.attention";
const listeners = new Set<() => void>();

function read(): AttentionSettings {
  try {
    const parsed = JSON.parse(localStorage.getItem(KEY) ?? "{}") as Partial<AttentionSettings>;
    return { sound: parsed.sound !== false, notifications: parsed.notifications !== false };
  } catch {
    return { sound: true, notifications: true };
  }
}

let current = read();

export function attentionSettings(): AttentionSettings {
  return current;
}

export function setAttentionSettings(patch: Partial<AttentionSettings>): void {
  current = { ...current, ...patch };
  localStorage.setItem(KEY, JSON.stringify(current));
  for (const listener of [...listeners]) listener();
}

export function useAttentionSettings(): AttentionSettings {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    attentionSettings,
    attentionSettings,
  );
}
