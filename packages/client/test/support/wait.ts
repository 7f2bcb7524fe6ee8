import type { ConversationHandle, ParleyClient } from "@parley/client";

/** Polls `check` until it returns without throwing (or a truthy value), failing with its last error after `timeoutMs`. */
export async function eventually<T>(check: () => T, timeoutMs = 5_000, what = "condition"): Promise<T> {
  const start = Date.now();
  let last: unknown = null;
  for (;;) {
    try {
      const value = check();
      if (value !== false && value !== undefined && value !== null) return value;
      last = new Error(`${what} is ${String(value)}`);
    } catch (err) {
      last = err;
    }
    if (Date.now() - start > timeoutMs) {
      throw last instanceof Error ? new Error(`timed out waiting for ${what}: ${last.message}`) : new Error(`timed out waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 15));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves when the client's status is `status`. */
export function statusIs(client: ParleyClient, status: string, timeoutMs = 5_000): Promise<boolean> {
  return eventually(() => client.connection.getSnapshot().status === status, timeoutMs, `status ${status}`);
}

/** What a user sees in a conversation: stored messages as `seq:text`, and the pending ones. */
export function shown(handle: ConversationHandle): { stored: string[]; pending: string[]; texts: string[] } {
  const messages = handle.getSnapshot().messages;
  return {
    stored: messages.filter((m) => m.seq !== null).map((m) => `${m.seq}:${m.text ?? "<deleted>"}`),
    pending: messages.filter((m) => m.seq === null).map((m) => m.text ?? ""),
    texts: messages.map((m) => m.text ?? "<deleted>"),
  };
}

/**
 * Records a problem whenever a snapshot shows a message twice or stored
 * messages out of `seq` order; `problems` must stay empty.
 */
export function watchInvariants(handle: ConversationHandle): { problems: string[]; stop: () => void } {
  const problems: string[] = [];
  const check = () => {
    const messages = handle.getSnapshot().messages;
    const keys = new Set<string>();
    const ids = new Set<string>();
    let lastSeq = -1;
    let seenPending = false;
    for (const m of messages) {
      if (keys.has(m.key)) problems.push(`key ${m.key} shown twice`);
      keys.add(m.key);
      if (m.id !== null) {
        if (ids.has(m.id)) problems.push(`message ${m.id} shown twice`);
        ids.add(m.id);
      }
      if (m.clientId !== null && m.seq === null && messages.some((o) => o !== m && o.clientId === m.clientId)) {
        problems.push(`clientId ${m.clientId} shown as pending and stored`);
      }
      if (m.seq === null) seenPending = true;
      else {
        if (seenPending) problems.push(`stored message ${m.seq} after a pending one`);
        if (m.seq <= lastSeq) problems.push(`seq ${m.seq} after ${lastSeq}`);
        lastSeq = m.seq;
      }
    }
  };
  const stop = handle.subscribe(check);
  return { problems, stop };
}

