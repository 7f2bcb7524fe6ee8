import type { ReadableStore } from "@parley/client";

/**
 * Resolves with the store's snapshot once `test` holds for it (checked now
 * and on every change); rejects after `timeoutMs` naming `what` it waited for.
 *
 * @example
 * await waitUntil(chat, (s) => s.typing.length > 0, "the photographer typing");
 */
export function waitUntil<S>(store: ReadableStore<S>, test: (snapshot: S) => boolean, what: string, timeoutMs = 5000): Promise<S> {
  return new Promise<S>((resolve, reject) => {
    let unsubscribe = (): void => undefined;
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    const check = (): boolean => {
      const snapshot = store.getSnapshot();
      if (!test(snapshot)) return false;
      clearTimeout(timer);
      unsubscribe();
      resolve(snapshot);
      return true;
    };
    if (check()) return;
    unsubscribe = store.subscribe(() => void check());
  });
}

/** Resolves with the first truthy value of `probe` (polled every 20 ms); rejects after `timeoutMs`. */
export async function waitFor<T>(probe: () => T | null | undefined | false, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
