import type { ReactNode } from "react";

const URL_PATTERN = /\b(?:https?:\/\/|www\.)[^\s<>"']+/gi;
const CLOSING: Record<string, string> = { ")": "(", "]": "[", "}": "{" };

const count = (s: string, c: string) => s.split(c).length - 1;

/**
 * A URL as found in text, without what follows it in the sentence: trailing
 * punctuation, and a closing bracket that has no opening one in the URL
 * (so `(see https://x.org/a)` ends at `a`, while
 * `https://en.wikipedia.org/wiki/Bracket_(disambiguation)` keeps its `)`).
 */
function trimUrl(found: string): string {
  let url = found;
  for (;;) {
    const last = url.at(-1);
    if (last === undefined) return url;
    if (".,;:!?'\"".includes(last)) url = url.slice(0, -1);
    else if (last in CLOSING && count(url, last) > count(url, CLOSING[last]!)) url = url.slice(0, -1);
    else return url;
  }
}

/**
 * A message's text as text (never as HTML), with `http(s)` URLs (and
 * `www.` addresses, as https) turned into links that open in a new tab
 * without access to this page.
 */
export function MessageText({ text }: { text: string }) {
  const parts: ReactNode[] = [];
  let last = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    const start = match.index;
    const url = trimUrl(match[0]);
    if (start > last) parts.push(text.slice(last, start));
    parts.push(
      <a key={start} href={url.toLowerCase().startsWith("www.") ? `https://${url}` : url} target="_blank" rel="noopener noreferrer">
        {url}
      </a>,
    );
    last = start + url.length;
  }
  if (last < text.length) parts.push(text.slice(last));
  return <>{parts}</>;
}
