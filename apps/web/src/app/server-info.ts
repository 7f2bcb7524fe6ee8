import { useEffect, useState } from "react";

/** What `/web-app.json` says about this server. */
export interface ServerInfo {
  dev: boolean;
  guests: boolean;
  version: string;
  /** The largest file the server accepts (absent from servers before it was told). */
  uploadMaxBytes?: number;
}

let cached: Promise<ServerInfo> | null = null;

function fetchServerInfo(): Promise<ServerInfo> {
  cached ??= fetch("/web-app.json")
    .then((res) => (res.ok ? (res.json() as Promise<ServerInfo>) : { dev: false, guests: false, version: "" }))
    .catch(() => ({ dev: false, guests: false, version: "" }));
  return cached;
}

/** The server's settings for the web app; `null` while loading. */
export function useServerInfo(): ServerInfo | null {
  const [info, setInfo] = useState<ServerInfo | null>(null);
  useEffect(() => {
    let live = true;
    void fetchServerInfo().then((i) => {
      if (live) setInfo(i);
    });
    return () => {
      live = false;
    };
  }, []);
  return info;
}

/** Calls one of the server's JSON endpoints without a user token (sign-in, dev mode, guests). */
export async function postJson<T>(path: string, body: unknown): Promise<T> {
  const res = await fetch(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const text = await res.text();
  const parsed = text ? (JSON.parse(text) as unknown) : null;
  if (!res.ok) {
    const message = (parsed as { error?: { message?: string } } | null)?.error?.message;
    throw new Error(message ?? `The server answered ${res.status}`);
  }
  return parsed as T;
}
