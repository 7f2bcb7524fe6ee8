import { useRef, useSyncExternalStore } from "react";
import type { ReadableStore } from "@parley/client";

/** The current snapshot of an SDK store; re-renders when it changes. */
export function useStore<T>(store: ReadableStore<T>): T {
  return useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
}

/**
 * A part of an SDK store's snapshot; re-renders only when `isEqual` says
 * the selected value changed.
 */
export function useStoreSelector<T, S>(store: ReadableStore<T>, select: (snapshot: T) => S, isEqual: (a: S, b: S) => boolean): S {
  const last = useRef<{ snapshot: T; select: (snapshot: T) => S; selected: S } | null>(null);
  const getSelected = () => {
    const snapshot = store.getSnapshot();
    const previous = last.current;
    if (previous && previous.snapshot === snapshot && previous.select === select) return previous.selected;
    const fresh = select(snapshot);
    const selected = previous && isEqual(previous.selected, fresh) ? previous.selected : fresh;
    last.current = { snapshot, select, selected };
    return selected;
  };
  return useSyncExternalStore(store.subscribe, getSelected, getSelected);
}
